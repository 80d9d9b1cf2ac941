/* htcodec command line: the subcommands, one file each. */
#ifndef HTC_CLI_H
#define HTC_CLI_H

#include "htc/htc.h"

int htc_cmd_info(int argc, char **argv);
int htc_cmd_decode(int argc, char **argv);
int htc_cmd_bench(int argc, char **argv);
int htc_cmd_dicom(int argc, char **argv);

/* Reads a whole file; returns 0 or an HTC_E status. *data is malloc'd. */
int htc_cli_read_file(const char *path, uint8_t **data, size_t *size);

#endif
