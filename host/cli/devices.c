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
                 "A platform without devices is listed too, with why where that is known (rusticl offers only the\n"
                 "drivers that RUSTICL_ENABLE names); when no platform has one, the command exits 1.\n"
                 "\"CLBlast tuned\" says whether `oclinit tune` has saved GEMM parameters for the device (a file\n"
                 "ignored as unreadable or corrupt is listed below the table).\n");
}

/* The first words of a version: 3 of "OpenCL 3.0 PoCL HSTR: pthread-..." give the version and the driver's name, 4
 * of a platform's "OpenCL 1.1 Mesa 22.3.6" or "OpenCL 3.0 PoCL 3.1+debian  Linux, ..." also the driver's version. */
static void short_version(const char *version, int words, char *text, size_t size) {
    int seen = 0;
    size_t n = 0;
    while (version[n] && n + 1 < size && !(version[n] == ' ' && ++seen == words)) n++;
    memcpy(text, version, n);
    text[n] = '\0';
}

static void gib(uint64_t bytes, char *text, size_t size) {
    snprintf(text, size, "%.1f GiB", (double)bytes / 1073741824.0);
}

/* The row of the host C path, the shortest the name column gets. */
#define HOST_NAME "host C path, all cores"

/* A platform without devices, where its devices would be, with why where that is known. */
static void print_empty_platform(const oi_platform_info *p) {
    char advice[256], version[128];
    short_version(p->version, 4, version, sizeof version);
    printf("  %-5u %-6s platform \"%s\" (%s): ", p->platform_index, "", p->name, version);
    if (p->listing != OCLINIT_SUCCESS)
        printf("its devices cannot be listed (%s)\n", oclinit_status_str(p->listing));
    else if (oi_platform_advice(p->implementation, advice, sizeof advice))
        printf("no devices\n%15s%s\n", "", advice); /* under the name, as a device's implementation line */
    else
        printf("no devices\n");
}

/* Every device; *devices is NULL when there is none. */
static oclinit_status list_devices(oclinit_device_info **devices, size_t *count) {
    *devices = NULL;
    oclinit_status status = oclinit_device_list(NULL, 0, count);
    if (status != OCLINIT_SUCCESS) return status;
    *devices = calloc(*count, sizeof **devices);
    if (!*devices) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "listing devices");
    return oclinit_device_list(*devices, *count, count);
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
    oclinit_device_info *devices = NULL;
    oi_platform_info *empty = NULL;
    size_t count = 0, empty_count = 0;
    oclinit_status status = list_devices(&devices, &count), listed = status;
    /* When no platform has a device, the table still shows each, with why where that is known, before the failure. */
    char failure[1024];
    snprintf(failure, sizeof failure, "%s", oclinit_error_get_detail());
    if (status == OCLINIT_SUCCESS || status == OCLINIT_ERROR_DEVICE_NOT_FOUND)
        listed = oi_platform_list_empty(&empty, &empty_count);
    if (listed != OCLINIT_SUCCESS) {
        report_failure("devices", listed);
        free(devices);
        return EXIT_FAILURE;
    }
    oclinit_device_info chosen;
    oclinit_status default_status = oclinit_device_find(NULL, &chosen);
    /* Whole names, since --device takes a part of one. */
    int width = (int)strlen(HOST_NAME);
    for (size_t i = 0; i < count; i++)
        if ((int)strlen(devices[i].name) > width) width = (int)strlen(devices[i].name);
    printf("  %-5s %-6s %-*s %10s %10s %4s  %-18s %-5s %-14s %s\n", "P:D", "type", width, "name", "memory",
           "max buffer", "CUs", "version", "fp64", "exact div/sqrt", "CLBlast tuned");
    char problems[4096] = "";
    size_t e = 0;
    for (size_t i = 0; i < count; i++) {
        const oclinit_device_info *d = &devices[i];
        for (; e < empty_count && empty[e].platform_index < d->platform_index; e++) print_empty_platform(&empty[e]);
        char index[16], memory[24], buffer[24], version[32];
        bool is_default = default_status == OCLINIT_SUCCESS && chosen.type != OCLINIT_DEVICE_HOST &&
                          chosen.platform_index == d->platform_index && chosen.device_index == d->device_index;
        snprintf(index, sizeof index, "%u:%u", d->platform_index, d->device_index);
        gib(d->global_memory, memory, sizeof memory);
        gib(d->max_allocation, buffer, sizeof buffer);
        short_version(d->version, 3, version, sizeof version);
        char why[1536];
        oclinit_tuning_state tuned = oclinit_tuning_check(d, why, sizeof why);
        if (tuned == OCLINIT_TUNING_IGNORED && strlen(problems) + strlen(why) + 16 < sizeof problems)
            snprintf(problems + strlen(problems), sizeof problems - strlen(problems), "%s: %s\n", index, why);
        printf("%c %-5s %-6s %-*s %10s %10s %4u  %-18s %-5s %-14s %s\n", is_default ? '*' : ' ', index,
               oclinit_device_type_str(d->type), width, d->name, memory, buffer, d->compute_units, version,
               d->fp64 ? "yes" : "no", d->correctly_rounded_divide_sqrt ? "yes" : "no",
               tuned == OCLINIT_TUNING_APPLIED ? "yes"
               : tuned == OCLINIT_TUNING_NONE  ? "no (oclinit tune)"
                                               : "file ignored");
        printf("  %-5s %-6s implementation: %s %s (platform \"%s\")\n", "", "", d->implementation, d->driver_version,
               d->platform_name);
    }
    for (; e < empty_count; e++) print_empty_platform(&empty[e]);
    printf("%c %-5s %-6s %-*s (--device cpu)\n",
           default_status == OCLINIT_SUCCESS && chosen.type == OCLINIT_DEVICE_HOST ? '*' : ' ', "cpu", "host", width,
           HOST_NAME);
    const char *better = oi_gemm_host_better_kernels();
    printf("  %-5s %-6s matrix products: OpenBLAS's %s kernels", "", "", oi_gemm_host_kernels());
    if (better) printf(" (older than this CPU; OPENBLAS_CORETYPE=%s runs its own)", better);
    printf("\n");
    if (problems[0]) printf("\n%s", problems);
    if (status == OCLINIT_SUCCESS && default_status != OCLINIT_SUCCESS)
        printf("\nOCLINIT_DEVICE=\"%s\" names no device: %s\n",
               getenv("OCLINIT_DEVICE") ? getenv("OCLINIT_DEVICE") : "", oclinit_error_get_detail());
    free(empty);
    free(devices);
    if (status == OCLINIT_SUCCESS) return EXIT_SUCCESS;
    report_failure("devices", oi_fail(status, "%s", failure));
    return EXIT_FAILURE;
}
