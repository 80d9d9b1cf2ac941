/* htc decode: not written yet. */
#include <stdio.h>

#include "cli.h"

int htc_cmd_decode(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "htc decode: not implemented yet\n");
    return 3;
}
