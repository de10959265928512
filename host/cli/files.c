/* The CLI's output policy: the files of a command are checked before any work (outputs regular files or new
 * names, no output the same file as an input or another output, "-" for standard output only where a command
 * streams), then written through core's atomic output files and published all or none. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* What a path names, for comparisons: an existing file by device and inode, a new one by its directory's real
 * path and its name, standard output (when not a regular file) as "-". */
typedef struct identity {
    bool exists;
    dev_t device;
    ino_t inode;
    char *name;
} identity;

static bool same_file(const identity *a, const identity *b) {
    if (a->exists || b->exists) return a->exists && b->exists && a->device == b->device && a->inode == b->inode;
    return a->name && b->name && strcmp(a->name, b->name) == 0;
}

static void identify_existing(identity *id, const struct stat *st) {
    id->exists = true;
    id->device = st->st_dev;
    id->inode = st->st_ino;
}

/* -1 when the output may be written, else the exit code after printing why. */
static int identify_output(const char *command, const file_arg *f, identity *id) {
    struct stat st;
    if (strcmp(f->path, "-") == 0) {
        if (!f->streams) {
            fprintf(stderr, "oclinit %s: error: %s -: this output cannot go to standard output; give a file name\n",
                    command, f->option);
            return EXIT_USAGE;
        }
        if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode))
            identify_existing(id, &st);
        else
            id->name = strdup("-");
        return -1;
    }
    oclinit_status status = oi_output_check(f->path);
    if (status != OCLINIT_SUCCESS) {
        fprintf(stderr, "oclinit %s: error: %s: %s\n", command, f->option, oclinit_error_get_detail());
        return status == OCLINIT_ERROR_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_FAILURE;
    }
    char directory[PATH_MAX], real[PATH_MAX];
    const char *name = oi_path_split(f->path, directory, sizeof directory);
    const char *problem = NULL;
    if (!realpath(directory, real))
        problem = strerror(errno);
    else if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        problem = "not a directory";
    /* Even a file that exists is written as a new temporary beside it: a directory that takes no new names would
     * otherwise fail the command only after all its work. */
    else if (access(real, W_OK | X_OK) != 0)
        problem = strerror(errno);
    if (problem) {
        fprintf(stderr, "oclinit %s: error: %s: cannot create %s: %s: %s\n", command, f->option, f->path, directory,
                problem);
        return EXIT_FAILURE; /* as for a missing input */
    }
    if (stat(f->path, &st) == 0) {
        identify_existing(id, &st);
        return -1;
    }
    size_t size = strlen(real) + strlen(f->path) + 2;
    id->name = malloc(size);
    if (!id->name) {
        fprintf(stderr, "oclinit %s: error: out of memory checking %s\n", command, f->path);
        return EXIT_FAILURE;
    }
    snprintf(id->name, size, "%s/%s", real, name);
    return -1;
}

int check_files(const char *command, const file_arg *inputs, size_t input_count, const file_arg *outputs,
                size_t output_count) {
    catch_signals();
    identity *in = calloc(input_count + 1, sizeof *in), *out = calloc(output_count + 1, sizeof *out);
    int code = in && out ? -1 : EXIT_FAILURE;
    if (code >= 0) fprintf(stderr, "oclinit %s: error: out of memory checking the files\n", command);
    for (size_t i = 0; code < 0 && i < input_count; i++) {
        struct stat st;
        /* An input that is not there (a built-in data set's name, or a missing file that reading will report)
         * cannot be overwritten. */
        if (inputs[i].path && stat(inputs[i].path, &st) == 0) identify_existing(&in[i], &st);
    }
    for (size_t o = 0; code < 0 && o < output_count; o++) {
        if (!outputs[o].path) continue;
        code = identify_output(command, &outputs[o], &out[o]);
        for (size_t i = 0; code < 0 && i < input_count; i++) {
            if (!inputs[i].path || !same_file(&out[o], &in[i])) continue;
            fprintf(stderr, "oclinit %s: error: %s %s is the same file as %s %s, which it would overwrite\n", command,
                    outputs[o].option, outputs[o].path, inputs[i].option, inputs[i].path);
            code = EXIT_USAGE;
        }
        for (size_t p = 0; code < 0 && p < o; p++) {
            if (!outputs[p].path || !same_file(&out[o], &out[p])) continue;
            fprintf(stderr, "oclinit %s: error: %s %s and %s %s are the same file; give each output its own\n", command,
                    outputs[p].option, outputs[p].path, outputs[o].option, outputs[o].path);
            code = EXIT_USAGE;
        }
    }
    for (size_t o = 0; out && o < output_count; o++) free(out[o].name);
    free(in);
    free(out);
    return code;
}

static bool is_stream(const output_file *f) {
    return strcmp(f->path, "-") == 0;
}

bool write_outputs(const char *command, const output_file *files, size_t count) {
    oi_output *out = calloc(count, sizeof *out); /* zeroed: abort does nothing to one never opened */
    if (!out) {
        fprintf(stderr, "oclinit %s: error: out of memory for the output files\n", command);
        return false;
    }
    oclinit_status status = OCLINIT_SUCCESS;
    for (size_t i = 0; i < count && status == OCLINIT_SUCCESS; i++) {
        if (!files[i].path) continue;
        if (is_stream(&files[i])) {
            fflush(stdout); /* what was printed comes first */
            oi_output_attach(STDOUT_FILENO, "standard output", &out[i]);
        } else {
            status = oi_output_open(files[i].path, &out[i]);
        }
    }
    /* Files first, standard output last: what was streamed cannot be taken back. */
    for (int streams = 0; streams < 2; streams++)
        for (size_t i = 0; i < count && status == OCLINIT_SUCCESS; i++) {
            if (!files[i].path || is_stream(&files[i]) != streams) continue;
            status = files[i].write(files[i].object, &out[i]);
            if (status == OCLINIT_SUCCESS) status = oi_output_finish(&out[i]);
        }
    bool publishing = status == OCLINIT_SUCCESS;
    size_t failed = count;
    for (size_t i = 0; i < count && status == OCLINIT_SUCCESS; i++)
        if (files[i].path && (status = oi_output_publish(&out[i])) != OCLINIT_SUCCESS) failed = i;
    if (status != OCLINIT_SUCCESS) {
        report_failure(command, status);
        for (size_t i = 0; publishing && i < failed; i++)
            if (files[i].path && !is_stream(&files[i]))
                fprintf(stderr, "oclinit %s: error: %s was written before that failure\n", command, files[i].path);
    }
    for (size_t i = 0; i < count; i++) oi_output_abort(&out[i]);
    free(out);
    return status == OCLINIT_SUCCESS;
}

oclinit_status write_printed(const void *object, oi_output *out) {
    const printed_text *text = object;
    char *data = NULL;
    size_t size = 0;
    FILE *memory = open_memstream(&data, &size);
    bool ok = memory && text->print(memory, text->user);
    ok = memory && fclose(memory) == 0 && ok;
    oclinit_status status =
        ok ? oi_output_write(out, data, size) : oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "formatting %s", out->path);
    free(data);
    return status;
}
