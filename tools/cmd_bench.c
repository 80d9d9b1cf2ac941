/* htc bench: not written yet. */
#include <stdio.h>

#include "cli.h"

int htc_cmd_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "htc bench: not implemented yet\n");
    return 3;
}
