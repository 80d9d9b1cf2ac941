/* The `htc decode` / `htc bench` contract of shared/DESIGN.md on corpus files
 * (tests/scripts/cli_contract.py): output formats byte for byte, sha256 of the
 * .raw layout against the corpus, options, exit codes 0/1/2, bench --json keys.
 * Exit 77 (skip) without python3 or the corpus. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roundtrip_driver.h"

int main(void)
{
    return script_run("cli_contract.py", "", "test_cli_contract");
}
