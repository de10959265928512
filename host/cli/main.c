/* oclinit: command dispatch and top-level help. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out) {
    fprintf(out,
            "oclinit %d.%d.%d: reproducible neural-network weight initialization on OpenCL devices\n"
            "\n"
            "Usage: oclinit <command> [options]\n"
            "\n"
            "Commands:\n"
            "  devices   list OpenCL platforms and devices, and which one is the default\n"
            "  init      initialize a layer on a device and write it to a .npy file\n"
            "  normalize fit min-max or z-score statistics on a CSV or .npy table and transform it,\n"
            "            or apply saved statistics to new data\n"
            "  experiment  the article's experiment: one network, five initializations, what each does\n"
            "  train     train the three-layer network on a CSV / .npy table or a built-in data set\n"
            "  predict   probabilities and classes from a trained model\n"
            "  tune      find CLBlast GEMM parameters for a device (faster training on it)\n"
            "  bench     the device against the host C path, numpy and PyTorch, with plots\n"
            "\n"
            "Run `oclinit <command> --help` for a command's options.\n"
            "The environment variable OCLINIT_DEVICE sets the default device (as --device does).\n",
            OCLINIT_VERSION_MAJOR, OCLINIT_VERSION_MINOR, OCLINIT_VERSION_PATCH);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *command = argv[1];
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 || strcmp(command, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(command, "--version") == 0) {
        printf("oclinit %d.%d.%d\n", OCLINIT_VERSION_MAJOR, OCLINIT_VERSION_MINOR, OCLINIT_VERSION_PATCH);
        return 0;
    }
    if (strcmp(command, "devices") == 0) return command_devices(argc - 1, argv + 1);
    if (strcmp(command, "init") == 0) return command_init(argc - 1, argv + 1);
    if (strcmp(command, "normalize") == 0) return command_normalize(argc - 1, argv + 1);
    if (strcmp(command, "experiment") == 0) return command_experiment(argc - 1, argv + 1);
    if (strcmp(command, "train") == 0) return command_train(argc - 1, argv + 1);
    if (strcmp(command, "predict") == 0) return command_predict(argc - 1, argv + 1);
    if (strcmp(command, "tune") == 0) return command_tune(argc - 1, argv + 1);
    if (strcmp(command, "bench") == 0) return command_bench(argc - 1, argv + 1);
    fprintf(stderr, "oclinit: unknown command \"%s\"\n\n", command);
    usage(stderr);
    return EXIT_USAGE;
}
