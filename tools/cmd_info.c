/* htc info: not written yet. */
#include <stdio.h>

#include "cli.h"

int htc_cmd_info(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "htc info: not implemented yet\n");
    return 3;
}
