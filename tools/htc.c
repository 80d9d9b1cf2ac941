/* htcodec command line: `htc COMMAND ...`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "htc %s: JPEG 2000 / HTJ2K / DICOM decoding\n"
            "usage:\n"
            "  htc info FILE [--json]\n"
            "  htc decode IN OUT [--reduce N] [--region x0,y0,x1,y1] [--tile I] [--layers L]\n"
            "                    [--threads N] [--device cpu|gpu] [--frame K]\n"
            "  htc bench FILE... [--threads N] [--repeat R] [--device cpu|gpu] [--json]\n"
            "  htc dicom json FILE.dcm\n"
            "  htc version\n",
            htc_version_string());
}

int htc_cli_read_file(const char *path, uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return HTC_EIO;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return HTC_EIO;
    }
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return HTC_EIO;
    }
    uint8_t *buf = malloc((size_t)n + 1);
    if (!buf) {
        fclose(f);
        return HTC_ENOMEM;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return HTC_EIO;
    }
    fclose(f);
    *data = buf;
    *size = (size_t)n;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "info"))
        return htc_cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "decode"))
        return htc_cmd_decode(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return htc_cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "dicom"))
        return htc_cmd_dicom(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("htc %s (CUDA %s)\n", htc_version_string(), htc_cuda_built() ? "yes" : "no");
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "htc: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
