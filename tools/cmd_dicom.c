/* htc dicom: not written yet. */
#include <stdio.h>

#include "cli.h"

int htc_cmd_dicom(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "htc dicom: not implemented yet\n");
    return 3;
}
