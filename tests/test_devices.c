/* oclinit devices, run as a user runs it: whole device names in an aligned table (--device takes a part of one),
 * and the platforms without a device listed with why, rusticl's RUSTICL_ENABLE above all, which --device rusticl
 * names as well. CTest sets RUSTICL_ENABLE=llvmpipe, so that the table has PoCL's and rusticl's devices. */
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define RUSTICL_ADVICE "rusticl offers only the drivers named in RUSTICL_ENABLE, e.g. RUSTICL_ENABLE=llvmpipe"

typedef struct run_result {
    int exit_code;
    char out[16384], err[4096];
} run_result;

static char dir[64];

/* Runs the CLI with args; in the child, each "NAME=value" of env (NULL-terminated, or NULL) is set and each bare
 * "NAME" unset. */
static run_result *run(const char *const *args, const char *const *env) {
    run_result *r = calloc(1, sizeof *r);
    char out_name[] = "/tmp/oclinit-test-out-XXXXXX", err_name[] = "/tmp/oclinit-test-err-XXXXXX";
    int out = mkstemp(out_name), err = mkstemp(err_name);
    assert_true(r && out >= 0 && err >= 0);
    unlink(out_name);
    unlink(err_name);
    char *argv[16] = {(char *)OCLINIT_CLI_PATH};
    for (size_t i = 0; args[i]; i++) argv[i + 1] = (char *)args[i];
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out, STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        for (size_t i = 0; env && env[i]; i++) strchr(env[i], '=') ? putenv((char *)env[i]) : unsetenv(env[i]);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    test_read_output(out, r->out, sizeof r->out);
    test_read_output(err, r->err, sizeof r->err);
    return r;
}

static void expect_text(const char *where, const char *text, const run_result *r) {
    if (!strstr(where, text))
        print_error("expected \"%s\"; exit %d\nstdout:\n%s\nstderr:\n%s\n", text, r->exit_code, r->out, r->err);
    assert_non_null(strstr(where, text));
}

/* The first line of stdout that starts with text (or holds it, when anywhere), copied into line. */
static void line_with(const run_result *r, const char *text, bool anywhere, char *line, size_t size) {
    for (const char *at = r->out; *at;) {
        size_t length = strcspn(at, "\n");
        snprintf(line, size, "%.*s", (int)length, at);
        if (anywhere ? strstr(line, text) != NULL : strncmp(line, text, strlen(text)) == 0) return;
        at += length + (at[length] == '\n');
    }
    print_error("no line %s \"%s\" in:\n%s\n", anywhere ? "holds" : "starts with", text, r->out);
    fail();
}

static void whole_names_in_an_aligned_table(void **state) {
    (void)state;
    size_t count = 0;
    assert_ok(oclinit_device_list(NULL, 0, &count));
    oclinit_device_info *devices = calloc(count, sizeof *devices);
    assert_ok(oclinit_device_list(devices, count, &count));
    run_result *r = run((const char *const[]){"devices", NULL}, NULL);
    assert_int_equal(r->exit_code, 0);
    char header[512], line[512];
    line_with(r, "  P:D ", false, header, sizeof header);
    size_t name_column = (size_t)(strstr(header, " name ") + 1 - header);
    size_t memory_end = (size_t)(strstr(header, "memory") + strlen("memory") - header);
    bool rusticl = false;
    for (size_t i = 0; i < count; i++) {
        char index[32];
        snprintf(index, sizeof index, "%u:%u ", devices[i].platform_index, devices[i].device_index);
        line_with(r, index, true, line, sizeof line);
        assert_int_equal(strncmp(line + 2, index, strlen(index)), 0);
        print_message("%s\n", line);
        /* Every name whole, where the header says, and the columns after it where theirs are. */
        assert_int_equal(strncmp(line + name_column, devices[i].name, strlen(devices[i].name)), 0);
        assert_true(strlen(line) > memory_end && strncmp(line + memory_end - 4, " GiB", 4) == 0);
        rusticl |= strcmp(devices[i].implementation, "rusticl") == 0;
    }
    assert_true(rusticl); /* CTest's RUSTICL_ENABLE=llvmpipe: two devices, two name lengths */
    line_with(r, "  cpu   host   host C path, all cores ", false, line, sizeof line);
    assert_int_equal(strncmp(line + memory_end - 10, "(--device cpu)", 14), 0);
    free(r);
    free(devices);
}

/* The environment of a vendors directory with PoCL and rusticl alone, rusticl told no driver to start, and PoCL told
 * to start pocl_devices (NULL: its own). */
static const char *const *beside_pocl(const char *pocl_devices) {
    static char vendors[128], pocl[64];
    static const char *env[] = {"RUSTICL_ENABLE", vendors, pocl, NULL};
    snprintf(vendors, sizeof vendors, "OCL_ICD_VENDORS=%s", dir);
    snprintf(pocl, sizeof pocl, "POCL_DEVICES%s%s", pocl_devices ? "=" : "", pocl_devices ? pocl_devices : "");
    return env;
}

static void write_icd(const char *name, const char *library) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", library);
    fclose(f);
}

static int make_vendors(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/oclinit-test-devices-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    write_icd("pocl.icd", "libpocl.so.2");
    write_icd("rusticl.icd", "libRusticlOpenCL.so.1");
    return 0;
}

static int remove_vendors(void **state) {
    (void)state;
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    return system(command);
}

static void rusticl_without_drivers_is_listed(void **state) {
    (void)state;
    run_result *r = run((const char *const[]){"devices", NULL}, beside_pocl(NULL));
    assert_int_equal(r->exit_code, 0);
    expect_text(r->out, "implementation: PoCL", r);
    expect_text(r->out, "platform \"rusticl\" (OpenCL ", r);
    expect_text(r->out, "): no devices\n               " RUSTICL_ADVICE "\n", r);
    free(r);
    /* --device rusticl says the same, and writes nothing. */
    char output[128];
    snprintf(output, sizeof output, "%s/w.npy", dir);
    r = run((const char *const[]){"init", "--scheme", "zeros", "--shape", "2", "--output", output, "--device",
                                  "rusticl", NULL},
            beside_pocl(NULL));
    assert_int_equal(r->exit_code, 1);
    expect_text(r->err, "platform \"rusticl\" has no device: " RUSTICL_ADVICE, r);
    assert_int_equal(access(output, F_OK), -1);
    free(r);
}

/* Every platform without a device: the table still shows them, the advice only for rusticl, and the command fails. */
static void no_platform_has_a_device(void **state) {
    (void)state;
    run_result *r = run((const char *const[]){"devices", NULL}, beside_pocl("none-such"));
    assert_int_equal(r->exit_code, 1);
    char line[512];
    line_with(r, "platform \"Portable Computing Language\" (OpenCL ", true, line, sizeof line);
    assert_non_null(strstr(line, "): no devices"));
    assert_null(strstr(line, "RUSTICL_ENABLE"));
    expect_text(r->out, "): no devices\n               " RUSTICL_ADVICE "\n", r);
    expect_text(r->out, "host C path", r);
    expect_text(r->err, "the OpenCL platforms here have no device; " RUSTICL_ADVICE, r);
    free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_names_in_an_aligned_table),
        cmocka_unit_test_setup_teardown(rusticl_without_drivers_is_listed, make_vendors, remove_vendors),
        cmocka_unit_test_setup_teardown(no_platform_has_a_device, make_vendors, remove_vendors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
