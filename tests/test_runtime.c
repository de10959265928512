/* Devices: listing, choosing by index, name, "cpu" and OCLINIT_DEVICE; build failures hand back the log;
 * allocations beyond the device's limits fail with a message that names the device; which device shares the host's
 * memory; memory for O_DIRECT writes. */
#define _GNU_SOURCE /* strcasestr */
#include <ctype.h>
#include <string.h>

#include "helpers.h"

static void lists_devices(void **state) {
    (void)state;
    size_t count = 0;
    assert_ok(oclinit_device_list(NULL, 0, &count));
    assert_true(count >= 1);
    oclinit_device_info *devices = calloc(count, sizeof *devices);
    assert_ok(oclinit_device_list(devices, count, &count));
    for (size_t i = 0; i < count; i++) {
        assert_true(strlen(devices[i].name) > 0);
        assert_true(strncmp(devices[i].version, "OpenCL ", 7) == 0);
        assert_true(devices[i].global_memory > 0 && devices[i].max_allocation > 0);
        assert_true(devices[i].max_allocation <= devices[i].global_memory);
        assert_true(devices[i].compute_units > 0);
        assert_true(devices[i].type != OCLINIT_DEVICE_HOST);
    }
    free(devices);
}

static void chooses_devices(void **state) {
    (void)state;
    oclinit_device_info first, by_name, info;
    unsetenv("OCLINIT_DEVICE");
    assert_ok(oclinit_device_find("0:0", &first));
    assert_int_equal(first.platform_index, 0);
    assert_int_equal(first.device_index, 0);
    assert_ok(oclinit_device_find(first.name + 2, &by_name)); /* part of the name */
    assert_string_equal(by_name.name, first.name);
    assert_ok(oclinit_device_find("cpu", &info));
    assert_int_equal(info.type, OCLINIT_DEVICE_HOST);
    assert_int_equal(oclinit_device_find("no such device anywhere", &info), OCLINIT_ERROR_DEVICE_NOT_FOUND);
    assert_non_null(strstr(oclinit_error_get_detail(), "oclinit devices"));
    assert_int_equal(oclinit_device_find("9:9", &info), OCLINIT_ERROR_DEVICE_NOT_FOUND);
    assert_non_null(strstr(oclinit_error_get_detail(), "no device 9:9"));
}

/* --device pocl, rusticl or nvidia: a device's implementation or platform name chooses it too, in any case; every
 * device says which implementation and driver it is. */
static void chooses_by_implementation_and_platform(void **state) {
    (void)state;
    size_t count = 0;
    assert_ok(oclinit_device_list(NULL, 0, &count));
    oclinit_device_info *devices = calloc(count, sizeof *devices), found;
    assert_ok(oclinit_device_list(devices, count, &count));
    for (size_t i = 0; i < count; i++) {
        const oclinit_device_info *d = &devices[i];
        print_message("%u:%u %s: implementation %s, driver %s, platform %s\n", d->platform_index, d->device_index,
                      d->name, d->implementation, d->driver_version, d->platform_name);
        assert_true(strlen(d->implementation) > 0 && strlen(d->driver_version) > 0);
        char lower[sizeof d->implementation];
        for (size_t c = 0; c < sizeof lower; c++) lower[c] = (char)tolower((unsigned char)d->implementation[c]);
        assert_ok(oclinit_device_find(lower, &found));
        /* A device whose own name contains it comes first, else the implementation's first device. */
        assert_true(strcasestr(found.name, lower) || strcmp(found.implementation, d->implementation) == 0);
        assert_ok(oclinit_device_find(d->platform_name, &found));
        assert_true(strcasestr(found.name, d->platform_name) || strcasestr(found.platform_name, d->platform_name));
        if (strcmp(d->platform_name, "Portable Computing Language") == 0)
            assert_string_equal(d->implementation, "PoCL");
        if (strcmp(d->platform_name, "rusticl") == 0) assert_string_equal(d->implementation, "rusticl");
    }
    free(devices);
    assert_ok(oclinit_device_find("cpu", &found));
    assert_string_equal(found.implementation, "host");
    assert_int_equal(oclinit_device_find("no such implementation", &found), OCLINIT_ERROR_DEVICE_NOT_FOUND);
    assert_non_null(strstr(oclinit_error_get_detail(), "nor any platform or implementation"));
}

static void environment_sets_the_default(void **state) {
    (void)state;
    oclinit_runtime_t rt = NULL;
    setenv("OCLINIT_DEVICE", "cpu", 1);
    assert_ok(oclinit_runtime_create(NULL, &rt));
    assert_int_equal(oclinit_runtime_get_device(rt)->type, OCLINIT_DEVICE_HOST);
    assert_null(oclinit_runtime_get_context(rt));
    oclinit_runtime_free(rt);
    assert_ok(oclinit_runtime_create("0:0", &rt)); /* an explicit choice wins over the environment */
    assert_non_null(oclinit_runtime_get_context(rt));
    oclinit_runtime_free(rt);
    setenv("OCLINIT_DEVICE", "no such device anywhere", 1);
    assert_int_equal(oclinit_runtime_create(NULL, &rt), OCLINIT_ERROR_DEVICE_NOT_FOUND);
    assert_null(rt);
    unsetenv("OCLINIT_DEVICE");
    oclinit_runtime_free(NULL);
}

static void build_failure_returns_the_log(void **state) {
    (void)state;
    oclinit_runtime_t rt = test_device(0);
    cl_program program = NULL;
    assert_int_equal(
        oi_runtime_build(rt, "broken.cl", "__kernel void broken(__global float *x) { x[0] = y; }", &program),
        OCLINIT_ERROR_KERNEL_BUILD);
    assert_null(program);
    assert_true(strlen(oclinit_runtime_get_build_log(rt)) > 0);
    assert_non_null(strstr(oclinit_runtime_get_build_log(rt), "y"));
    assert_non_null(strstr(oclinit_error_get_detail(), "building broken.cl"));
    oclinit_runtime_free(rt);
}

static void allocation_beyond_the_device_fails_clearly(void **state) {
    (void)state;
    oclinit_runtime_t rt = test_device(0);
    cl_mem buffer = NULL;
    const oclinit_device_info *info = oclinit_runtime_get_device(rt);
    assert_int_equal(oi_buffer_create(rt, (size_t)info->max_allocation + 4096, &buffer),
                     OCLINIT_ERROR_OUT_OF_DEVICE_MEMORY);
    assert_null(buffer);
    assert_non_null(strstr(oclinit_error_get_detail(), info->name));
    oclinit_runtime_free(rt);
}

/* Only a CPU device works in the host's memory (the checkpoint writer's slots: kernels write into them, and then they
 * stay on small pages); the host C path is no device. */
static void shares_memory_only_on_a_cpu_device(void **state) {
    (void)state;
    oclinit_runtime_t rt = test_device(0), host = NULL;
    assert_false(oi_runtime_shares_memory(NULL));
    assert_ok(oclinit_runtime_create("cpu", &host));
    assert_false(oi_runtime_shares_memory(host));
    assert_int_equal(oi_runtime_shares_memory(rt), oclinit_runtime_get_device(rt)->type == OCLINIT_DEVICE_CPU);
    oclinit_runtime_free(host);
    oclinit_runtime_free(rt);
}

/* Memory for O_DIRECT writes: page-aligned, 2 MiB-aligned (for huge pages) from a huge page's size on, all of it
 * usable; none for a size that cannot be rounded up. */
static void direct_memory_is_aligned(void **state) {
    (void)state;
    const size_t sizes[] = {5000, (size_t)3 << 20};
    for (size_t i = 0; i < 2; i++) {
        unsigned char *memory = oi_output_direct_memory(sizes[i]);
        assert_non_null(memory);
        assert_int_equal((uintptr_t)memory % (i == 1 ? (size_t)2 << 20 : 4096), 0);
        memset(memory, 0xa5, sizes[i]);
        free(memory);
    }
    assert_null(oi_output_direct_memory(SIZE_MAX - 100));
}

/* A runtime on the caller's queue works on that queue, names the same device with the same indices, keeps its
 * kernels apart from another runtime's, and leaves the queue alive for the caller when freed. */
static void runtime_from_the_callers_queue(void **state) {
    (void)state;
    oclinit_runtime_t owner = test_device(0), on_queue = NULL;
    cl_command_queue queue = oclinit_runtime_get_queue(owner);
    assert_int_equal(oclinit_runtime_create_from_queue(NULL, &on_queue), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(oclinit_runtime_create_from_queue(queue, NULL), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_ok(oclinit_runtime_create_from_queue(queue, &on_queue));
    assert_ptr_equal(oclinit_runtime_get_queue(on_queue), queue);
    assert_ptr_equal(oclinit_runtime_get_context(on_queue), oclinit_runtime_get_context(owner));
    const oclinit_device_info *a = oclinit_runtime_get_device(owner), *b = oclinit_runtime_get_device(on_queue);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->platform_index, b->platform_index);
    assert_int_equal(a->device_index, b->device_index);
    oclinit_distribution uniform = {.kind = OCLINIT_DISTRIBUTION_UNIFORM, .a = -1, .b = 1, .shape = {2, {1, 1000}}};
    float from_queue[1000], from_owner[1000];
    assert_ok(oclinit_init_fill_host(on_queue, &uniform, 9, 2, 0, 1000, from_queue));
    oclinit_runtime_free(on_queue);
    assert_int_equal(clFinish(queue), CL_SUCCESS); /* still the caller's */
    assert_ok(oclinit_init_fill_host(owner, &uniform, 9, 2, 0, 1000, from_owner));
    assert_memory_equal(from_queue, from_owner, sizeof from_owner);
    oclinit_runtime_free(owner);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lists_devices),
        cmocka_unit_test(chooses_devices),
        cmocka_unit_test(chooses_by_implementation_and_platform),
        cmocka_unit_test(environment_sets_the_default),
        cmocka_unit_test(build_failure_returns_the_log),
        cmocka_unit_test(allocation_beyond_the_device_fails_clearly),
        cmocka_unit_test(runtime_from_the_callers_queue),
        cmocka_unit_test(shares_memory_only_on_a_cpu_device),
        cmocka_unit_test(direct_memory_is_aligned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
