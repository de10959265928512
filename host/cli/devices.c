/* oclinit devices: every platform and device, and the one oclinit picks by default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out) {
    fprintf(out, "Usage: oclinit devices\n"
                 "\n"
                 "Lists every OpenCL platform and device with what matters for oclinit: type, global memory,\n"
                 "largest single buffer, compute units, OpenCL version, fp64 support and whether float divide and\n"
                 "sqrt are correctly rounded. The device marked * is the default: OCLINIT_DEVICE if set, else\n"
                 "the first GPU, else the first CPU device. Choose another with --device P:D, a part of its\n"
                 "name, a part of its implementation's or platform's name (pocl, rusticl, nvidia), or `cpu` for\n"
                 "the host C path. Below each device: its implementation, driver version and platform.\n"
                 "\"CLBlast tuned\" says whether `oclinit tune` has saved GEMM parameters for the device (a file\n"
                 "ignored as unreadable or corrupt is listed below the table).\n");
}

/* "OpenCL 3.0 PoCL HSTR: pthread-..." -> "OpenCL 3.0 PoCL": the version and the driver's name. */
static void short_version(const char *version, char *text, size_t size) {
    int words = 0;
    size_t n = 0;
    while (version[n] && n + 1 < size && !(version[n] == ' ' && ++words == 3)) n++;
    memcpy(text, version, n);
    text[n] = '\0';
}

static void gib(uint64_t bytes, char *text, size_t size) {
    snprintf(text, size, "%.1f GiB", (double)bytes / 1073741824.0);
}

int command_devices(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        fprintf(stderr, "oclinit devices: unknown argument \"%s\"\n\n", argv[i]);
        usage(stderr);
        return EXIT_USAGE;
    }
    size_t count = 0;
    oclinit_status status = oclinit_device_list(NULL, 0, &count);
    if (status != OCLINIT_SUCCESS) {
        report_failure("devices", status);
        return EXIT_FAILURE;
    }
    oclinit_device_info *devices = calloc(count, sizeof *devices);
    if (!devices) {
        fprintf(stderr, "oclinit devices: error: out of host memory\n");
        return EXIT_FAILURE;
    }
    status = oclinit_device_list(devices, count, &count);
    oclinit_device_info chosen;
    oclinit_status default_status = oclinit_device_find(NULL, &chosen);
    if (status != OCLINIT_SUCCESS) {
        report_failure("devices", status);
        free(devices);
        return EXIT_FAILURE;
    }
    printf("  %-5s %-6s %-34s %10s %10s %4s  %-18s %-5s %-14s %s\n", "P:D", "type", "name", "memory", "max buffer",
           "CUs", "version", "fp64", "exact div/sqrt", "CLBlast tuned");
    char problems[4096] = "";
    for (size_t i = 0; i < count; i++) {
        const oclinit_device_info *d = &devices[i];
        char index[16], memory[24], buffer[24], version[32];
        bool is_default = default_status == OCLINIT_SUCCESS && chosen.type != OCLINIT_DEVICE_HOST &&
                          chosen.platform_index == d->platform_index && chosen.device_index == d->device_index;
        snprintf(index, sizeof index, "%u:%u", d->platform_index, d->device_index);
        gib(d->global_memory, memory, sizeof memory);
        gib(d->max_allocation, buffer, sizeof buffer);
        short_version(d->version, version, sizeof version);
        char why[1536];
        oclinit_tuning_state tuned = oclinit_tuning_check(d, why, sizeof why);
        if (tuned == OCLINIT_TUNING_IGNORED && strlen(problems) + strlen(why) + 16 < sizeof problems)
            snprintf(problems + strlen(problems), sizeof problems - strlen(problems), "%s: %s\n", index, why);
        printf("%c %-5s %-6s %-34.34s %10s %10s %4u  %-18s %-5s %-14s %s\n", is_default ? '*' : ' ', index,
               oclinit_device_type_str(d->type), d->name, memory, buffer, d->compute_units, version,
               d->fp64 ? "yes" : "no", d->correctly_rounded_divide_sqrt ? "yes" : "no",
               tuned == OCLINIT_TUNING_APPLIED ? "yes"
               : tuned == OCLINIT_TUNING_NONE  ? "no (oclinit tune)"
                                               : "file ignored");
        printf("  %-5s %-6s implementation: %s %s (platform \"%s\")\n", "", "", d->implementation, d->driver_version,
               d->platform_name);
    }
    printf("%c %-5s %-6s %-34s (--device cpu)\n",
           default_status == OCLINIT_SUCCESS && chosen.type == OCLINIT_DEVICE_HOST ? '*' : ' ', "cpu", "host",
           "host C path, all cores");
    const char *better = oi_gemm_host_better_kernels();
    printf("  %-5s %-6s matrix products: OpenBLAS's %s kernels", "", "", oi_gemm_host_kernels());
    if (better) printf(" (older than this CPU; OPENBLAS_CORETYPE=%s runs its own)", better);
    printf("\n");
    if (problems[0]) printf("\n%s", problems);
    if (default_status != OCLINIT_SUCCESS)
        printf("\nOCLINIT_DEVICE=\"%s\" names no device: %s\n",
               getenv("OCLINIT_DEVICE") ? getenv("OCLINIT_DEVICE") : "", oclinit_error_get_detail());
    free(devices);
    return EXIT_SUCCESS;
}
