/* CLBlast tuning: the per-device cache file (path, reading, what a corrupt one does) and the search itself. */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

static char cache_dir[256];

/* Xgemm's parameters as `oclinit tune` writes them, each from its search's list, with MWG, VWM and what follows
 * left for a test to fill in (the kernel is 64 x 64 tiles of 4-wide vectors). */
#define XGEMM_BUT(mwg_vwm_vwn)                                                                                         \
    "Xgemm GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=8 MDIMC=8 NDIMB=8 NDIMC=8 NWG=64 SA=1 SB=1 "                              \
    "STRM=0 STRN=0 " mwg_vwm_vwn "\n"
#define TUNED_LINE XGEMM_BUT("MWG=64 VWM=4 VWN=4")
static const char *const tuned_line = TUNED_LINE;

static int make_cache_dir(void **state) {
    (void)state;
    snprintf(cache_dir, sizeof cache_dir, "%s/oclinit-test-tuning-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    mkdir(cache_dir, 0755);
    setenv("OCLINIT_CACHE_DIR", cache_dir, 1);
    return 0;
}

static int remove_cache_dir(void **state) {
    (void)state;
    char command[512];
    snprintf(command, sizeof command, "rm -rf '%s'", cache_dir);
    return system(command) == 0 ? 0 : -1;
}

static oclinit_device_info some_device(void) {
    oclinit_device_info info = {.type = OCLINIT_DEVICE_CPU};
    snprintf(info.platform_name, sizeof info.platform_name, "Portable Computing Language");
    snprintf(info.name, sizeof info.name, "pthread-Some CPU (R) 9000");
    snprintf(info.version, sizeof info.version, "OpenCL 3.0 PoCL 3.1");
    return info;
}

static void write_text(const char *path, const char *text, size_t size) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static void test_path_names_the_device_and_its_driver(void **state) {
    (void)state;
    oclinit_device_info info = some_device();
    char path[1024], other[1024];
    assert_ok(oclinit_tuning_get_path(&info, path, sizeof path));
    assert_int_equal(strncmp(path, cache_dir, strlen(cache_dir)), 0);
    assert_non_null(strstr(path, "/clblast-pthread-some-cpu-r-9000-"));
    assert_string_equal(path + strlen(path) - 4, ".txt");
    snprintf(info.version, sizeof info.version, "OpenCL 3.0 PoCL 4.0");
    assert_ok(oclinit_tuning_get_path(&info, other, sizeof other));
    assert_string_not_equal(path, other); /* another driver version: tuned again */

    info.type = OCLINIT_DEVICE_HOST;
    assert_int_equal(oclinit_tuning_get_path(&info, path, sizeof path), OCLINIT_ERROR_NOT_SUPPORTED);
    info = some_device();
    assert_int_equal(oclinit_tuning_get_path(&info, path, 20), OCLINIT_ERROR_INVALID_ARGUMENT);

    setenv("OCLINIT_CACHE_DIR", "", 1);
    setenv("XDG_CACHE_HOME", "/x/cache", 1);
    assert_ok(oclinit_tuning_get_path(&info, path, sizeof path));
    assert_int_equal(strncmp(path, "/x/cache/oclinit/clblast-", 25), 0);
    unsetenv("XDG_CACHE_HOME");
    setenv("OCLINIT_CACHE_DIR", cache_dir, 1);
}

static void test_check_reads_good_and_rejects_corrupt_files(void **state) {
    (void)state;
    oclinit_device_info info = some_device();
    char path[1024], message[2048];
    assert_ok(oclinit_tuning_get_path(&info, path, sizeof path));
    unlink(path);
    assert_int_equal(oclinit_tuning_check(&info, message, sizeof message), OCLINIT_TUNING_NONE);
    assert_string_equal(message, "");

    /* What `oclinit tune` writes, and panel budgets in the range that tests use to split small products. */
    static const char *const good[] = {
        "# a comment\n\n" TUNED_LINE "GemmRoutine XGEMM_MIN_INDIRECT_SIZE=64\noclinit GEMM_PANEL=2097152\n",
        TUNED_LINE "GemmRoutine XGEMM_MIN_INDIRECT_SIZE=1024\noclinit GEMM_PANEL=0\n",
        "oclinit GEMM_PANEL=5000\r\n" TUNED_LINE,
        XGEMM_BUT("MWG=128 VWN=1 VWM=16"),
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        write_text(path, good[i], strlen(good[i]));
        if (oclinit_tuning_check(&info, message, sizeof message) != OCLINIT_TUNING_APPLIED)
            fail_msg("file %zu was ignored: %s", i, message);
    }

    static const struct {
        const char *text, *why;
    } corrupt[] = {
        {"", "no kernel parameters"},
        {"# only a comment\n", "no kernel parameters"},
        {"Xgemm\n", "line 1: Xgemm has no parameters"},
        {TUNED_LINE "GemmRoutine KWG=abc\n", "line 2: expected NAME=number"},
        {"Xgemm MWG=64x\n", "line 1: bad value for MWG"},
        {"Xgemm MWG=99999999999\n", "line 1: bad value for MWG"},
        {"= MWG=64\n", "line 1: no kernel name"},
        {TUNED_LINE "\xff\xfe garbage\n", "line 2: no kernel name"},
        /* Values outside what the search can choose: a hand edit's huge tiles made training crawl for minutes. */
        {XGEMM_BUT("MWG=4096 VWM=4 VWN=4"), "line 1: MWG=4096 is not a value `oclinit tune` chooses (MWG: 16, 32, "
                                            "64, 128)"},
        {XGEMM_BUT("MWG=64 VWM=3 VWN=4"), "line 1: VWM=3 is not a value `oclinit tune` chooses (VWM: 1, 2, 4, 8, 16)"},
        {TUNED_LINE "GemmRoutine XGEMM_MIN_INDIRECT_SIZE=100000\n",
         "line 2: XGEMM_MIN_INDIRECT_SIZE=100000 is not a value `oclinit tune` chooses (XGEMM_MIN_INDIRECT_SIZE: 64, "
         "128, 192, 256, 384, 512, 768, 1024)"},
        {TUNED_LINE "oclinit GEMM_PANEL=7\n",
         "line 2: GEMM_PANEL=7 is not a value `oclinit tune` chooses (GEMM_PANEL: 0, or 1024 to 16777216)"},
        {"oclinit GEMM_PANEL=1073741824\n", "line 1: GEMM_PANEL=1073741824 is not a value"},
        /* Kernels and parameters it does not write, twice, missing, or not fitting together. */
        {TUNED_LINE "oclinit GEMM_K_CHUNK=512\n", "line 2: unknown parameter GEMM_K_CHUNK of oclinit"},
        {XGEMM_BUT("MWG=64 VWM=4 VWN=4 WGD=8"), "line 1: unknown parameter WGD of Xgemm"},
        {"XgemmDirect WGD=8\n", "line 1: kernel XgemmDirect is not one that `oclinit tune` writes"},
        {TUNED_LINE TUNED_LINE, "line 2: a second Xgemm line"},
        {XGEMM_BUT("MWG=64 VWM=4 MWG=64"), "line 1: MWG is given twice"},
        {"Xgemm MWG=64 NWG=64\n", "line 1: Xgemm lacks GEMMK"},
        {XGEMM_BUT("MWG=64 VWM=16 VWN=4"), "line 1: the Xgemm parameters do not fit together"},
    };
    for (size_t i = 0; i < sizeof corrupt / sizeof corrupt[0]; i++) {
        write_text(path, corrupt[i].text, strlen(corrupt[i].text));
        assert_int_equal(oclinit_tuning_check(&info, message, sizeof message), OCLINIT_TUNING_IGNORED);
        if (!strstr(message, corrupt[i].why) || !strstr(message, path) || !strstr(message, "run `oclinit tune`"))
            fail_msg("file %zu: expected \"%s\", the path and the advice in \"%s\"", i, corrupt[i].why, message);
    }
    write_text(path, "Xgemm MWG=64\0 KWG=32\n", 21); /* a NUL byte: not a text file */
    assert_int_equal(oclinit_tuning_check(&info, message, sizeof message), OCLINIT_TUNING_IGNORED);
    assert_non_null(strstr(message, "not a text file"));
    unlink(path);
}

/* The seeds' text, one line per seed, for messages. */
static void seeds_text(const oi_xgemm_config *seeds, size_t count, char *text, size_t size) {
    text[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        size_t used = strlen(text);
        oi_xgemm_config_text(&seeds[i], text + used, size - used);
        used = strlen(text);
        snprintf(text + used, size - used, "\n");
    }
}

/* Seed i holds every "NAME=value" of expected (a space-separated list). */
static void assert_seed(const oi_xgemm_config *seeds, size_t count, size_t i, const char *expected) {
    char all[2048], line[512], copy[256];
    seeds_text(seeds, count, all, sizeof all);
    if (i >= count) fail_msg("no seed %zu among\n%s", i, all);
    oi_xgemm_config_text(&seeds[i], line, sizeof line);
    strcat(line, " ");
    snprintf(copy, sizeof copy, "%s", expected);
    for (char *item = strtok(copy, " "); item; item = strtok(NULL, " ")) {
        char needle[64];
        snprintf(needle, sizeof needle, " %s ", item);
        if (!strstr(line, needle)) fail_msg("seed %zu lacks %s:\n%s", i, item, all);
    }
}

/* Starting points come from what the device reports, not from one machine: the register tile and the vectors
 * follow the CPU's vector width (AVX2's 8 floats, AVX-512's 16), local memory stays off where it is emulated,
 * GPUs get 16 x 16 or 8 x 8 work-groups on large tiles with local memory, and nothing the device cannot run. */
static void test_seeds_follow_the_device(void **state) {
    (void)state;
    oi_xgemm_config seeds[OI_TUNING_MAX_SEEDS];
    /* PoCL on an AVX2 CPU (pthread-haswell): 8-wide floats, local memory in global memory. */
    oi_tuning_device avx2 = {
        .preferred_width = 8, .native_width = 8, .local_memory = 1 << 21, .compute_units = 2, .max_group = 4096};
    size_t count = oi_tuning_seeds(&avx2, seeds);
    assert_int_equal(count, 2);
    assert_seed(seeds, count, 0, "VWM=8 VWN=8 MWG=16 NWG=16 MDIMC=2 NDIMC=2 SA=0 SB=0");
    assert_seed(seeds, count, 1, "VWM=8 VWN=8 MWG=32 NWG=32 MDIMC=4 NDIMC=4 SA=0 SB=0");
    /* On AVX-512 (pthread-skylake-avx512): 16-wide, a 16 x 16 tile of C per work-item. */
    oi_tuning_device avx512 = avx2;
    avx512.preferred_width = avx512.native_width = 16;
    count = oi_tuning_seeds(&avx512, seeds);
    assert_int_equal(count, 2);
    assert_seed(seeds, count, 0, "VWM=16 VWN=16 MWG=32 NWG=32 MDIMC=2 NDIMC=2 KWG=32 KWI=8 SA=0 SB=0");
    assert_seed(seeds, count, 1, "VWM=16 VWN=16 MWG=64 NWG=64 MDIMC=4 NDIMC=4 SA=0 SB=0");
    /* The hardware's width counts when the preferred one differs; a CPU with real local memory tries it too. */
    oi_tuning_device sse = avx2;
    sse.preferred_width = 8, sse.native_width = 4, sse.local_memory_dedicated = true;
    count = oi_tuning_seeds(&sse, seeds);
    assert_int_equal(count, 3);
    assert_seed(seeds, count, 0, "VWM=4 VWN=4 MWG=16 NWG=16 MDIMC=4 NDIMC=2 SA=0");
    assert_seed(seeds, count, 2, "VWM=4 SA=1 SB=1");

    /* A GPU: scalar lanes (width 1), 48 KiB of local memory, 1024 work-items per group, 20 compute units. */
    oi_tuning_device gpu = {.gpu = true,
                            .preferred_width = 1,
                            .native_width = 1,
                            .local_memory = 48 << 10,
                            .local_memory_dedicated = true,
                            .compute_units = 20,
                            .max_group = 1024};
    count = oi_tuning_seeds(&gpu, seeds);
    assert_int_equal(count, 3);
    assert_seed(seeds, count, 0, "MDIMC=16 NDIMC=16 MDIMA=16 NDIMB=16 MWG=128 NWG=128 SA=1 SB=1 VWM=4 VWN=4");
    assert_seed(seeds, count, 1, "MDIMC=8 NDIMC=8 MWG=64 NWG=64 SA=1 SB=1");
    /* Many compute units: the 128 x 128 tiles leave too few work-groups at 1024 x 512 and go last. */
    gpu.compute_units = 100;
    count = oi_tuning_seeds(&gpu, seeds);
    assert_seed(seeds, count, 0, "MDIMC=8 NDIMC=8 MWG=64 NWG=64");
    assert_seed(seeds, count, count - 1, "MDIMC=16 NDIMC=16 MWG=128 NWG=128");
    /* Work-groups of at most 128: only the 8 x 8 one; of 8: a small one that still runs; no local memory type. */
    gpu.compute_units = 20, gpu.max_group = 128;
    count = oi_tuning_seeds(&gpu, seeds);
    assert_int_equal(count, 1);
    assert_seed(seeds, count, 0, "MDIMC=8 NDIMC=8");
    gpu.max_group = 8, gpu.local_memory_dedicated = false;
    count = oi_tuning_seeds(&gpu, seeds);
    assert_int_equal(count, 1);
    assert_seed(seeds, count, 0, "MDIMC=1 NDIMC=1 SA=0 SB=0");
    gpu.max_group = 1024;
    count = oi_tuning_seeds(&gpu, seeds);
    assert_seed(seeds, count, 0, "MDIMC=16 NDIMC=16 SA=0 SB=0");

    /* Every seed is a line a cache file may hold. */
    const oi_tuning_device devices[] = {avx2, avx512, sse, gpu};
    oclinit_device_info info = some_device();
    char path[1024], text[600], message[2048];
    assert_ok(oclinit_tuning_get_path(&info, path, sizeof path));
    for (size_t d = 0; d < sizeof devices / sizeof devices[0]; d++) {
        count = oi_tuning_seeds(&devices[d], seeds);
        for (size_t i = 0; i < count; i++) {
            oi_xgemm_config_text(&seeds[i], text, sizeof text);
            strcat(text, "\n");
            write_text(path, text, strlen(text));
            if (oclinit_tuning_check(&info, message, sizeof message) != OCLINIT_TUNING_APPLIED)
                fail_msg("device %zu, seed %zu: %s", d, i, message);
        }
    }
    unlink(path);
}

/* Creating a runtime leaves CLBlast alone; its first matrix product reads the device's cache file and says what
 * it did with it. */
static oclinit_tuning_state state_after_first_product(oclinit_runtime_t rt, const char **message) {
    assert_int_equal(oclinit_tuning_get_state(rt, NULL), OCLINIT_TUNING_NONE);
    float one[4] = {1, 1, 1, 1};
    cl_mem buffers[3];
    for (int i = 0; i < 3; i++) {
        cl_int error;
        buffers[i] = clCreateBuffer(oclinit_runtime_get_context(rt), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                    sizeof one, one, &error);
        assert_int_equal(error, CL_SUCCESS);
    }
    oi_gemm_shape shape = {2, 2, 2, false, false};
    assert_ok(oi_gemm_device_packed(rt, &shape, buffers[0], buffers[1], buffers[2]));
    assert_int_equal(clFinish(oclinit_runtime_get_queue(rt)), CL_SUCCESS);
    for (int i = 0; i < 3; i++) clReleaseMemObject(buffers[i]);
    return oclinit_tuning_get_state(rt, message);
}

/* On the device: a corrupt or incomplete file is ignored with a message, never fatal; a complete one is applied
 * and CLBlast's products stay right with it. */
/* OpenBLAS's fallback kernels on a CPU it does not know are replaced by the CPU's own; its choice stands otherwise. */
static void test_host_kernels_follow_the_cpu(void **state) {
    (void)state;
    static const struct {
        const char *running;
        bool avx2_fma, avx512;
        const char *expected;
    } cases[] = {
        {"Prescott", true, true, "SkylakeX"}, {"Prescott", true, false, "Haswell"},
        {"Core2", true, false, "Haswell"},    {"Sandybridge", true, false, "Haswell"},
        {"Nehalem", false, false, NULL},      {"Prescott", false, false, NULL},
        {"Haswell", true, true, NULL},        {"SkylakeX", true, true, NULL},
        {"skylakex", true, true, NULL},       {"Zen", true, false, NULL},
        {"Cooperlake", true, true, NULL},     {"SapphireRapids", true, true, NULL},
        {NULL, true, false, "Haswell"},
    };
    for (size_t i = 0; i < OI_COUNT(cases); i++) {
        const char *got = oi_gemm_host_kernels_for(cases[i].running, cases[i].avx2_fma, cases[i].avx512);
        if (cases[i].expected)
            assert_non_null(got), assert_string_equal(got, cases[i].expected);
        else
            assert_null(got);
    }
    assert_non_null(oi_gemm_host_kernels());
}

static void test_runtime_applies_or_ignores_the_file(void **state) {
    (void)state;
    oclinit_runtime_t rt = test_device(0);
    char path[1024];
    const char *message;
    assert_ok(oclinit_tuning_get_path(oclinit_runtime_get_device(rt), path, sizeof path));
    oclinit_runtime_free(rt);

    /* Tiles far beyond the search: CLBlast keeps its own parameters, and its products stay right. */
    static const char huge[] = XGEMM_BUT("MWG=8192 VWM=4 VWN=4");
    write_text(path, huge, strlen(huge));
    rt = test_device(0);
    assert_int_equal(state_after_first_product(rt, &message), OCLINIT_TUNING_IGNORED);
    assert_non_null(strstr(message, "MWG=8192 is not a value `oclinit tune` chooses"));
    oclinit_runtime_free(rt);

    write_text(path, "not a cache file at all", 23);
    rt = test_device(0);
    assert_int_equal(state_after_first_product(rt, &message), OCLINIT_TUNING_IGNORED);
    assert_non_null(strstr(message, "line 1: expected NAME=number"));
    oclinit_runtime_free(rt);

    char tuned[512];
    snprintf(tuned, sizeof tuned, "%soclinit GEMM_PANEL=100000\n", tuned_line);
    write_text(path, tuned, strlen(tuned));
    rt = test_device(0);
    assert_int_equal(state_after_first_product(rt, &message), OCLINIT_TUNING_APPLIED);
    assert_string_equal(message, "");
    /* A [256, 512, 512, 1] network's forward pass with these parameters against the host twin's: products
     * large enough for CLBlast's tuned kernel (small ones go to its direct kernel), K of 256 and 512 made in
     * chunks of 64 (panels of 100000 floats). */
    oclinit_network_shape shape = {256, 512, 512, OCLINIT_ACTIVATION_TANH, 0};
    oclinit_scheme scheme = oclinit_scheme_default(OCLINIT_SCHEME_XAVIER_NORMAL);
    oclinit_network_t on_device, on_host;
    enum { SAMPLES = 1024, INPUTS = 256 };
    static float x[SAMPLES * INPUTS], device_p[SAMPLES], host_p[SAMPLES];
    oclinit_distribution normal = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .std = 1, .shape = {2, {SAMPLES, INPUTS}}};
    assert_ok(oclinit_init_fill_host(NULL, &normal, 3, 0, 0, SAMPLES * INPUTS, x));
    assert_ok(oclinit_network_create(rt, &shape, &on_device));
    assert_ok(oclinit_network_create(NULL, &shape, &on_host));
    assert_ok(oclinit_network_init(on_device, &scheme, 5));
    assert_ok(oclinit_network_init(on_host, &scheme, 5));
    assert_ok(oclinit_network_predict(on_device, x, SAMPLES, device_p));
    assert_ok(oclinit_network_predict(on_host, x, SAMPLES, host_p));
    for (size_t i = 0; i < SAMPLES; i++) assert_float_equal(device_p[i], host_p[i], 1e-5);
    oclinit_network_free(on_device);
    oclinit_network_free(on_host);
    oclinit_runtime_free(rt);
    unlink(path);
}

/* Device products in every transpose, K whole and in chunks (the last one shorter), against a plain loop in
 * double; and its refusals. */
static void test_sgemm_in_chunks_equals_whole(void **state) {
    (void)state;
    enum { M = 70, N = 50, K = 250 };
    static float a[M * K], b[K * N], c[M * N];
    oclinit_distribution normal = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .std = 1, .shape = {2, {M * K, 1}}};
    assert_ok(oclinit_init_fill_host(NULL, &normal, 7, 0, 0, M * K, a));
    assert_ok(oclinit_init_fill_host(NULL, &normal, 7, 1, 0, K * N, b));
    char path[1024], tuned[512];
    oclinit_runtime_t rt = test_device(0);
    assert_ok(oclinit_tuning_get_path(oclinit_runtime_get_device(rt), path, sizeof path));
    oclinit_runtime_free(rt);
    for (int chunked = 0; chunked < 2; chunked++) {
        snprintf(tuned, sizeof tuned, "%soclinit GEMM_PANEL=%d\n", tuned_line, chunked ? 5000 : 0);
        write_text(path, tuned, strlen(tuned));
        rt = test_device(0);
        assert_int_equal(state_after_first_product(rt, NULL), OCLINIT_TUNING_APPLIED);
        cl_context context = oclinit_runtime_get_context(rt);
        cl_int e1, e2, e3;
        cl_mem da = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof a, a, &e1);
        cl_mem db = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof b, b, &e2);
        cl_mem dc = clCreateBuffer(context, CL_MEM_READ_WRITE, sizeof c, NULL, &e3);
        assert_true(e1 == CL_SUCCESS && e2 == CL_SUCCESS && e3 == CL_SUCCESS);
        /* Every transpose, for a full product and for the matrix-vector and outer products of the output layer. */
        for (int t = 0; t < 16; t++) {
            int thin = t >> 2; /* 0: none, 1: one row, 2: one column, 3: K of 1 */
            oi_gemm_shape shape = {thin == 1 ? 1 : M, thin == 2 ? 1 : N, thin == 3 ? 1 : K, t & 1, t & 2};
            const float nan = NAN; /* beta = 0 must overwrite C, not scale what is there */
            assert_int_equal(
                clEnqueueFillBuffer(oclinit_runtime_get_queue(rt), dc, &nan, sizeof nan, 0, sizeof c, 0, NULL, NULL),
                CL_SUCCESS);
            assert_ok(oi_gemm_device_packed(rt, &shape, da, db, dc));
            assert_int_equal(
                clEnqueueReadBuffer(oclinit_runtime_get_queue(rt), dc, CL_TRUE, 0, sizeof c, c, 0, NULL, NULL),
                CL_SUCCESS);
            for (size_t i = 0; i < shape.m; i++)
                for (size_t j = 0; j < shape.n; j++) {
                    double sum = 0;
                    for (size_t k = 0; k < shape.k; k++)
                        sum += (double)a[shape.transpose_a ? k * shape.m + i : i * shape.k + k] *
                               b[shape.transpose_b ? j * shape.k + k : k * shape.n + j];
                    if (!(fabs(c[i * shape.n + j] - sum) <= 1e-4)) /* NaN fails too */
                        fail_msg("chunked %d, case %d: C[%zu][%zu] = %g, expected %g", chunked, t, i, j,
                                 c[i * shape.n + j], sum);
                }
        }
        oi_gemm_shape empty = {M, 0, K, false, false};
        assert_int_equal(oi_gemm_device_packed(rt, &empty, da, db, dc), OCLINIT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(oi_gemm_device_packed(rt, &empty, da, NULL, dc), OCLINIT_ERROR_INVALID_ARGUMENT);
        clReleaseMemObject(da);
        clReleaseMemObject(db);
        clReleaseMemObject(dc);
        oclinit_runtime_free(rt);
    }
    unlink(path);
    oclinit_runtime_t host = NULL;
    oi_gemm_shape shape = {M, N, K, false, false};
    cl_mem fake = (cl_mem)&shape; /* never used: the host C path is refused first */
    assert_ok(oclinit_runtime_create("cpu", &host));
    assert_int_equal(oi_gemm_device_packed(host, &shape, fake, fake, fake), OCLINIT_ERROR_NOT_SUPPORTED);
    oclinit_runtime_free(host);
}

static int cancel_at_once(void *user, const oclinit_progress *progress) {
    assert_int_equal(progress->done, progress->tuning->candidates);
    assert_null(progress->train);
    *(oclinit_tuning_report *)user = *progress->tuning;
    return 1;
}

/* The search on the device: the parameters in use are measured first; the first candidate's products are
 * checked against OpenBLAS; cancelling saves nothing; a spent budget saves nothing either. */
static void test_tune_measures_checks_and_cancels(void **state) {
    (void)state;
    oclinit_runtime_t rt = test_device(0);
    char path[1024];
    assert_ok(oclinit_tuning_get_path(oclinit_runtime_get_device(rt), path, sizeof path));
    unlink(path);
    oclinit_tuning_report report, seen;
    oclinit_tuning_options options = {.budget_seconds = 1e-6};
    assert_ok(oclinit_tuning_run(rt, &options, &report));
    assert_int_equal(report.candidates, 0);
    assert_false(report.saved);
    assert_true(report.before > 0);
    for (size_t i = 0; i < OCLINIT_TUNING_SHAPES; i++) {
        assert_true(report.shape_before[i] > 0);
        assert_true(report.shape_after[i] == report.shape_before[i]);
    }
    assert_string_equal(report.path, path);

    options = (oclinit_tuning_options){.budget_seconds = 600, .progress = cancel_at_once, .user = &seen};
    assert_int_equal(oclinit_tuning_run(rt, &options, &report), OCLINIT_ERROR_CANCELLED);
    assert_int_equal(seen.candidates, 1);
    assert_int_equal(seen.rejected, 0); /* the first starting point is valid and its products right */
    assert_true(access(path, F_OK) != 0);
    oclinit_runtime_free(rt);

    oclinit_runtime_t host = NULL;
    assert_ok(oclinit_runtime_create("cpu", &host));
    assert_int_equal(oclinit_tuning_run(host, NULL, &report), OCLINIT_ERROR_NOT_SUPPORTED);
    assert_int_equal(oclinit_tuning_get_state(host, NULL), OCLINIT_TUNING_NONE);
    oclinit_runtime_free(host);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_names_the_device_and_its_driver),
        cmocka_unit_test(test_check_reads_good_and_rejects_corrupt_files),
        cmocka_unit_test(test_seeds_follow_the_device),
        cmocka_unit_test(test_host_kernels_follow_the_cpu),
        cmocka_unit_test(test_runtime_applies_or_ignores_the_file),
        cmocka_unit_test(test_sgemm_in_chunks_equals_whole),
        cmocka_unit_test(test_tune_measures_checks_and_cancels),
    };
    return cmocka_run_group_tests(tests, make_cache_dir, remove_cache_dir);
}
