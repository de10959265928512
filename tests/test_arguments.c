/* The public API's arguments: a NULL for each pointer argument of each function is refused with
 * OCLINIT_ERROR_INVALID_ARGUMENT (or, for a function that returns a value, the empty value oclinit.h documents) and a
 * detail naming the function and the argument; sizes that overflow are OCLINIT_ERROR_SIZE_OVERFLOW, never a wrap. */
#include <math.h>
#include <stdio.h>

#include "helpers.h"

/* Valid objects, so that each case below has exactly one NULL. */
static oclinit_runtime_t host, device;
static oclinit_table_t table;
static oclinit_normalizer_t normalizer;
static oclinit_network_t network;
static oclinit_distribution distribution;
static oclinit_scheme scheme;
static oclinit_network_shape shape = {2, 3, 2, OCLINIT_ACTIVATION_RELU, 0};
static oclinit_device_info info;
static cl_mem buffer;
static float data[8] = {0, 1, 2, 3, 4, 5, 6, 7}, labels[4] = {0, 1, 0, 1}, floats[64];
static double number;
static char text[64];
static size_t count;
static oclinit_runtime_t new_runtime;
static oclinit_table_t new_table;
static oclinit_normalizer_t new_normalizer;
static oclinit_network_t new_network;
static oclinit_tuning_report report;
static oclinit_scheme_kind scheme_kind;
static oclinit_fan_mode fan_mode;
static oclinit_nonlinearity nonlinearity;
static oclinit_distribution_kind distribution_kind;
static oclinit_normalize_method method;
static oclinit_activation activation;
static oclinit_optimizer optimizer;
static oclinit_dataset dataset;
static oclinit_convention convention;
static oclinit_shape tensor_shape = {2, {4, 2}};
static int64_t fan;
static uint64_t elements;

static int setup(void **state) {
    (void)state;
    if (oclinit_runtime_create("cpu", &host) != OCLINIT_SUCCESS) return -1;
    device = test_device(0);
    buffer = test_buffer(device, 64 * sizeof(float), NULL);
    scheme = oclinit_scheme_default(OCLINIT_SCHEME_NORMAL);
    if (oclinit_scheme_resolve(&scheme, 4, 2, &distribution) != OCLINIT_SUCCESS ||
        oclinit_table_create(4, 2, data, &table) != OCLINIT_SUCCESS ||
        oclinit_normalizer_fit(host, OCLINIT_NORMALIZE_ZSCORE, 0, 1, table, &normalizer) != OCLINIT_SUCCESS ||
        oclinit_network_create(host, &shape, &network) != OCLINIT_SUCCESS ||
        oclinit_device_find(NULL, &info) != OCLINIT_SUCCESS)
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    oclinit_network_free(network);
    oclinit_normalizer_free(normalizer);
    oclinit_table_free(table);
    clReleaseMemObject(buffer);
    oclinit_runtime_free(device);
    oclinit_runtime_free(host);
    return 0;
}

/* Every status-returning function of oclinit.h with each of its required pointer arguments NULL in turn, and the
 * detail it must give. */
#define NULL_CASES(X)                                                                                                  \
    X("oclinit_device_list: count is NULL", oclinit_device_list(NULL, 0, NULL))                                        \
    X("oclinit_device_list: devices is NULL", oclinit_device_list(NULL, 4, &count))                                    \
    X("oclinit_device_find: info is NULL", oclinit_device_find("cpu", NULL))                                           \
    X("oclinit_runtime_create: runtime is NULL", oclinit_runtime_create("cpu", NULL))                                  \
    X("oclinit_runtime_create_from_queue: queue is NULL", oclinit_runtime_create_from_queue(NULL, &new_runtime))       \
    X("oclinit_runtime_create_from_queue: runtime is NULL",                                                            \
      oclinit_runtime_create_from_queue(oclinit_runtime_get_queue(device), NULL))                                      \
    X("oclinit_tuning_get_path: device is NULL", oclinit_tuning_get_path(NULL, text, sizeof text))                     \
    X("oclinit_tuning_get_path: path is NULL", oclinit_tuning_get_path(&info, NULL, sizeof text))                      \
    X("oclinit_tuning_run: runtime is NULL", oclinit_tuning_run(NULL, NULL, &report))                                  \
    X("oclinit_tuning_run: report is NULL", oclinit_tuning_run(device, NULL, NULL))                                    \
    X("oclinit_scheme_kind_parse: name is NULL", oclinit_scheme_kind_parse(NULL, &scheme_kind))                        \
    X("oclinit_scheme_kind_parse: scheme (the result) is NULL", oclinit_scheme_kind_parse("normal", NULL))             \
    X("oclinit_fan_mode_parse: name is NULL", oclinit_fan_mode_parse(NULL, &fan_mode))                                 \
    X("oclinit_fan_mode_parse: mode (the result) is NULL", oclinit_fan_mode_parse("fan_in", NULL))                     \
    X("oclinit_nonlinearity_parse: name is NULL", oclinit_nonlinearity_parse(NULL, &nonlinearity))                     \
    X("oclinit_nonlinearity_parse: nonlinearity (the result) is NULL", oclinit_nonlinearity_parse("relu", NULL))       \
    X("oclinit_distribution_kind_parse: name is NULL", oclinit_distribution_kind_parse(NULL, &distribution_kind))      \
    X("oclinit_distribution_kind_parse: distribution (the result) is NULL",                                            \
      oclinit_distribution_kind_parse("normal", NULL))                                                                 \
    X("oclinit_normalize_method_parse: name is NULL", oclinit_normalize_method_parse(NULL, &method))                   \
    X("oclinit_normalize_method_parse: method (the result) is NULL", oclinit_normalize_method_parse("zscore", NULL))   \
    X("oclinit_activation_parse: name is NULL", oclinit_activation_parse(NULL, &activation))                           \
    X("oclinit_activation_parse: activation (the result) is NULL", oclinit_activation_parse("relu", NULL))             \
    X("oclinit_optimizer_parse: name is NULL", oclinit_optimizer_parse(NULL, &optimizer))                              \
    X("oclinit_optimizer_parse: optimizer (the result) is NULL", oclinit_optimizer_parse("adam", NULL))                \
    X("oclinit_dataset_parse: name is NULL", oclinit_dataset_parse(NULL, &dataset))                                    \
    X("oclinit_dataset_parse: data set (the result) is NULL", oclinit_dataset_parse("moons", NULL))                    \
    X("oclinit_scheme_resolve: scheme is NULL", oclinit_scheme_resolve(NULL, 4, 2, &distribution))                     \
    X("oclinit_scheme_resolve: distribution is NULL", oclinit_scheme_resolve(&scheme, 4, 2, NULL))                     \
    X("oclinit_scheme_resolve_shape: shape is NULL", oclinit_scheme_resolve_shape(&scheme, NULL, &distribution))       \
    X("oclinit_scheme_resolve_shape: distribution is NULL",                                                            \
      oclinit_scheme_resolve_shape(&scheme, &tensor_shape, NULL))                                                      \
    X("oclinit_shape_parse: text is NULL", oclinit_shape_parse(NULL, &tensor_shape))                                   \
    X("oclinit_shape_parse: shape is NULL", oclinit_shape_parse("3,4", NULL))                                          \
    X("oclinit_shape_get_elements: shape is NULL", oclinit_shape_get_elements(NULL, &elements))                        \
    X("oclinit_shape_get_elements: elements is NULL", oclinit_shape_get_elements(&tensor_shape, NULL))                 \
    X("oclinit_shape_get_fans: fan_in is NULL",                                                                        \
      oclinit_shape_get_fans(&tensor_shape, OCLINIT_CONVENTION_PYTORCH, NULL, &fan))                                   \
    X("oclinit_shape_get_fans: shape is NULL", oclinit_shape_get_fans(NULL, OCLINIT_CONVENTION_PYTORCH, &fan, &fan))   \
    X("oclinit_convention_parse: name is NULL", oclinit_convention_parse(NULL, &convention))                           \
    X("oclinit_init_fill_buffer: distribution is NULL", oclinit_init_fill_buffer(device, NULL, 0, 0, 0, 4, buffer, 0)) \
    X("oclinit_init_fill_buffer: buffer is NULL",                                                                      \
      oclinit_init_fill_buffer(device, &distribution, 0, 0, 0, 4, NULL, 0))                                            \
    X("oclinit_init_fill_host: distribution is NULL", oclinit_init_fill_host(host, NULL, 0, 0, 0, 4, floats))          \
    X("oclinit_init_fill_host: out is NULL", oclinit_init_fill_host(host, &distribution, 0, 0, 0, 4, NULL))            \
    X("oclinit_init_write_npy: distribution is NULL", oclinit_init_write_npy(host, NULL, 0, 0, "unused.npy", NULL))    \
    X("oclinit_init_write_npy: path is NULL", oclinit_init_write_npy(host, &distribution, 0, 0, NULL, NULL))           \
    X("oclinit_table_create: data is NULL", oclinit_table_create(4, 2, NULL, &new_table))                              \
    X("oclinit_table_create: table is NULL", oclinit_table_create(4, 2, data, NULL))                                   \
    X("oclinit_table_read: path is NULL", oclinit_table_read(NULL, NULL, &new_table))                                  \
    X("oclinit_table_read: table is NULL", oclinit_table_read("unused.csv", NULL, NULL))                               \
    X("oclinit_table_write: table is NULL", oclinit_table_write(NULL, "unused.csv"))                                   \
    X("oclinit_table_write: path is NULL", oclinit_table_write(table, NULL))                                           \
    X("oclinit_table_get_labels: table is NULL", oclinit_table_get_labels(NULL, floats))                               \
    X("oclinit_table_get_labels: labels is NULL", oclinit_table_get_labels(table, NULL))                               \
    X("oclinit_normalizer_fit: table is NULL",                                                                         \
      oclinit_normalizer_fit(host, OCLINIT_NORMALIZE_ZSCORE, 0, 1, NULL, &new_normalizer))                             \
    X("oclinit_normalizer_fit: normalizer is NULL",                                                                    \
      oclinit_normalizer_fit(host, OCLINIT_NORMALIZE_ZSCORE, 0, 1, table, NULL))                                       \
    X("oclinit_normalizer_fit_buffer: data is NULL",                                                                   \
      oclinit_normalizer_fit_buffer(device, OCLINIT_NORMALIZE_ZSCORE, 0, 1, NULL, 4, 2, &new_normalizer))              \
    X("oclinit_normalizer_fit_buffer: normalizer is NULL",                                                             \
      oclinit_normalizer_fit_buffer(device, OCLINIT_NORMALIZE_ZSCORE, 0, 1, buffer, 4, 2, NULL))                       \
    X("oclinit_normalizer_apply: normalizer is NULL", oclinit_normalizer_apply(host, NULL, table))                     \
    X("oclinit_normalizer_apply: table is NULL", oclinit_normalizer_apply(host, normalizer, NULL))                     \
    X("oclinit_normalizer_apply_buffer: normalizer is NULL",                                                           \
      oclinit_normalizer_apply_buffer(device, NULL, buffer, buffer, 4))                                                \
    X("oclinit_normalizer_apply_buffer: in is NULL",                                                                   \
      oclinit_normalizer_apply_buffer(device, normalizer, NULL, buffer, 4))                                            \
    X("oclinit_normalizer_apply_buffer: out is NULL",                                                                  \
      oclinit_normalizer_apply_buffer(device, normalizer, buffer, NULL, 4))                                            \
    X("oclinit_normalizer_save: normalizer is NULL", oclinit_normalizer_save(NULL, "unused.txt"))                      \
    X("oclinit_normalizer_save: path is NULL", oclinit_normalizer_save(normalizer, NULL))                              \
    X("oclinit_normalizer_load: path is NULL", oclinit_normalizer_load(NULL, &new_normalizer))                         \
    X("oclinit_normalizer_load: normalizer is NULL", oclinit_normalizer_load("unused.txt", NULL))                      \
    X("oclinit_network_create: shape is NULL", oclinit_network_create(host, NULL, &new_network))                       \
    X("oclinit_network_create: network is NULL", oclinit_network_create(host, &shape, NULL))                           \
    X("oclinit_network_init: network is NULL", oclinit_network_init(NULL, &scheme, 0))                                 \
    X("oclinit_network_init: scheme is NULL", oclinit_network_init(network, NULL, 0))                                  \
    X("oclinit_network_get_parameters: network is NULL", oclinit_network_get_parameters(NULL, floats))                 \
    X("oclinit_network_get_parameters: parameters is NULL", oclinit_network_get_parameters(network, NULL))             \
    X("oclinit_network_set_parameters: network is NULL", oclinit_network_set_parameters(NULL, floats))                 \
    X("oclinit_network_set_parameters: parameters is NULL", oclinit_network_set_parameters(network, NULL))             \
    X("oclinit_network_train: network is NULL", oclinit_network_train(NULL, data, labels, 4, NULL, NULL))              \
    X("oclinit_network_train: x is NULL", oclinit_network_train(network, NULL, labels, 4, NULL, NULL))                 \
    X("oclinit_network_train: y is NULL", oclinit_network_train(network, data, NULL, 4, NULL, NULL))                   \
    X("oclinit_network_evaluate: network is NULL", oclinit_network_evaluate(NULL, data, labels, 4, &number, &number))  \
    X("oclinit_network_evaluate: x is NULL", oclinit_network_evaluate(network, NULL, labels, 4, &number, &number))     \
    X("oclinit_network_evaluate: y is NULL", oclinit_network_evaluate(network, data, NULL, 4, &number, &number))       \
    X("oclinit_network_evaluate: cost is NULL", oclinit_network_evaluate(network, data, labels, 4, NULL, &number))     \
    X("oclinit_network_evaluate: accuracy is NULL", oclinit_network_evaluate(network, data, labels, 4, &number, NULL)) \
    X("oclinit_network_predict: network is NULL", oclinit_network_predict(NULL, data, 4, floats))                      \
    X("oclinit_network_predict: x is NULL", oclinit_network_predict(network, NULL, 4, floats))                         \
    X("oclinit_network_predict: probabilities is NULL", oclinit_network_predict(network, data, 4, NULL))               \
    X("oclinit_network_save: network is NULL", oclinit_network_save(NULL, NULL, "unused.bin"))                         \
    X("oclinit_network_save: path is NULL", oclinit_network_save(network, NULL, NULL))                                 \
    X("oclinit_network_load: path is NULL", oclinit_network_load(host, NULL, &new_network, &new_normalizer))           \
    X("oclinit_network_load: network is NULL", oclinit_network_load(host, "unused.bin", NULL, &new_normalizer))        \
    X("oclinit_network_load: normalizer is NULL", oclinit_network_load(host, "unused.bin", &new_network, NULL))        \
    X("oclinit_dataset_make: x is NULL", oclinit_dataset_make(OCLINIT_DATASET_MOONS, 4, 0, 0, 0, NULL, labels))        \
    X("oclinit_dataset_make: y is NULL", oclinit_dataset_make(OCLINIT_DATASET_MOONS, 4, 0, 0, 0, floats, NULL))

static const char *const null_details[] = {
#define DETAIL(detail, call) detail,
    NULL_CASES(DETAIL)
#undef DETAIL
};

static oclinit_status null_call(size_t k) {
    size_t i = 0;
#define CALL(detail, call)                                                                                             \
    if (i++ == k) return call;
    NULL_CASES(CALL)
#undef CALL
    return OCLINIT_SUCCESS;
}

static void null_pointers_are_refused(void **state) {
    (void)state;
    for (size_t k = 0; k < OI_COUNT(null_details); k++) {
        oi_clear_error();
        oclinit_status status = null_call(k);
        if (status != OCLINIT_ERROR_INVALID_ARGUMENT || strcmp(oclinit_error_get_detail(), null_details[k]) != 0)
            print_error("case %zu: expected \"%s\", got %s: \"%s\"\n", k, null_details[k], oclinit_status_str(status),
                        oclinit_error_get_detail());
        assert_int_equal(status, OCLINIT_ERROR_INVALID_ARGUMENT);
        assert_string_equal(oclinit_error_get_detail(), null_details[k]);
    }
    /* Nothing was made, and no output pointer was left pointing anywhere. */
    assert_null(new_runtime);
    assert_null(new_table);
    assert_null(new_normalizer);
    assert_null(new_network);
}

/* The detail of the last call, which must have failed on argument. */
static void expect_detail(const char *function, const char *argument) {
    char expected[160];
    snprintf(expected, sizeof expected, "%s: %s", function, argument);
    assert_string_equal(oclinit_error_get_detail(), expected);
    oi_clear_error();
}

static void getters_return_empty_values(void **state) {
    (void)state;
    oi_clear_error();
    assert_null(oclinit_runtime_get_device(NULL));
    expect_detail("oclinit_runtime_get_device", "runtime is NULL");
    assert_null(oclinit_runtime_get_context(NULL));
    expect_detail("oclinit_runtime_get_context", "runtime is NULL");
    assert_null(oclinit_runtime_get_queue(NULL));
    expect_detail("oclinit_runtime_get_queue", "runtime is NULL");
    assert_string_equal(oclinit_runtime_get_build_log(NULL), "");
    expect_detail("oclinit_runtime_get_build_log", "runtime is NULL");

    strcpy(text, "stale");
    assert_int_equal(oclinit_tuning_check(NULL, text, sizeof text), OCLINIT_TUNING_NONE);
    assert_string_equal(text, "");
    expect_detail("oclinit_tuning_check", "device is NULL");
    const char *message = "stale";
    assert_int_equal(oclinit_tuning_get_state(NULL, &message), OCLINIT_TUNING_NONE);
    assert_string_equal(message, "");
    expect_detail("oclinit_tuning_get_state", "runtime is NULL");

    double mean = 0, std = 0;
    oclinit_distribution_get_moments(NULL, &mean, &std);
    assert_true(isnan(mean) && isnan(std));
    expect_detail("oclinit_distribution_get_moments", "distribution is NULL");
    oclinit_distribution_get_moments(&distribution, NULL, &std);
    expect_detail("oclinit_distribution_get_moments", "mean is NULL");
    oclinit_distribution_get_moments(&distribution, &mean, NULL);
    expect_detail("oclinit_distribution_get_moments", "std is NULL");
    strcpy(text, "stale");
    oclinit_distribution_describe(NULL, text, sizeof text);
    assert_string_equal(text, "");
    expect_detail("oclinit_distribution_describe", "distribution is NULL");
    oclinit_distribution_describe(&distribution, NULL, sizeof text);
    expect_detail("oclinit_distribution_describe", "text is NULL");

    assert_int_equal(oclinit_table_get_rows(NULL), 0);
    expect_detail("oclinit_table_get_rows", "table is NULL");
    assert_int_equal(oclinit_table_get_features(NULL), 0);
    expect_detail("oclinit_table_get_features", "table is NULL");
    assert_null(oclinit_table_get_data(NULL));
    expect_detail("oclinit_table_get_data", "table is NULL");
    assert_int_equal(oclinit_table_get_feature_column(NULL, 0), 0);
    expect_detail("oclinit_table_get_feature_column", "table is NULL");
    assert_null(oclinit_table_get_feature_name(NULL, 0));
    expect_detail("oclinit_table_get_feature_name", "table is NULL");
    assert_int_equal(oclinit_table_get_label_column(NULL), 0);
    expect_detail("oclinit_table_get_label_column", "table is NULL");
    assert_null(oclinit_table_get_label_name(NULL));
    expect_detail("oclinit_table_get_label_name", "table is NULL");
    assert_int_equal(oclinit_table_get_feature_column(table, 2), 0);
    expect_detail("oclinit_table_get_feature_column", "feature 2 does not exist; the table has 2");
    assert_null(oclinit_table_get_feature_name(table, SIZE_MAX));
    assert_non_null(strstr(oclinit_error_get_detail(), "does not exist"));

    assert_int_equal(oclinit_normalizer_get_method(NULL), OCLINIT_NORMALIZE_MINMAX);
    expect_detail("oclinit_normalizer_get_method", "normalizer is NULL");
    double lo = 0, hi = 0;
    oclinit_normalizer_get_range(NULL, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    expect_detail("oclinit_normalizer_get_range", "normalizer is NULL");
    oclinit_normalizer_get_range(normalizer, NULL, &hi);
    expect_detail("oclinit_normalizer_get_range", "lo is NULL");
    oclinit_normalizer_get_range(normalizer, &lo, NULL);
    expect_detail("oclinit_normalizer_get_range", "hi is NULL");
    assert_int_equal(oclinit_normalizer_get_features(NULL), 0);
    expect_detail("oclinit_normalizer_get_features", "normalizer is NULL");
    oclinit_stats stats = oclinit_normalizer_get_stats(NULL, 0);
    assert_true(stats.count == 0 && isnan(stats.mean) && isnan(stats.std));
    expect_detail("oclinit_normalizer_get_stats", "normalizer is NULL");
    stats = oclinit_normalizer_get_stats(normalizer, 2);
    assert_true(stats.count == 0 && isnan(stats.mean));
    expect_detail("oclinit_normalizer_get_stats", "feature 2 does not exist; the normalizer has 2");
    assert_null(oclinit_normalizer_get_feature_name(NULL, 0));
    expect_detail("oclinit_normalizer_get_feature_name", "normalizer is NULL");
    assert_null(oclinit_normalizer_get_label(NULL));
    expect_detail("oclinit_normalizer_get_label", "normalizer is NULL");
    assert_false(oclinit_normalizer_is_constant(NULL, 0));
    expect_detail("oclinit_normalizer_is_constant", "normalizer is NULL");
    assert_false(oclinit_normalizer_is_constant(normalizer, 7));
    expect_detail("oclinit_normalizer_is_constant", "feature 7 does not exist; the normalizer has 2");

    oclinit_network_shape none = oclinit_network_get_shape(NULL);
    assert_true(none.inputs == 0 && none.hidden1 == 0 && none.hidden2 == 0);
    expect_detail("oclinit_network_get_shape", "network is NULL");
    assert_int_equal(oclinit_network_get_parameter_count(NULL), 0);
    expect_detail("oclinit_network_get_parameter_count", "network is NULL");
    strcpy(text, "stale");
    assert_false(oclinit_network_diagnose(NULL, text, sizeof text));
    assert_string_equal(text, "");
    expect_detail("oclinit_network_diagnose", "layers is NULL");

    /* The valid handles still answer, and the free functions take NULL. */
    assert_int_equal(oclinit_table_get_rows(table), 4);
    assert_int_equal(oclinit_network_get_shape(network).hidden1, 3);
    oclinit_runtime_free(NULL);
    oclinit_table_free(NULL);
    oclinit_normalizer_free(NULL);
    oclinit_network_free(NULL);
}

static void size_multiplication_edges(void **state) {
    (void)state;
    size_t product = 7;
    assert_true(oi_size_mul(0, SIZE_MAX, &product) && product == 0);
    assert_true(oi_size_mul(SIZE_MAX, 1, &product) && product == SIZE_MAX);
    assert_true(oi_size_mul(2, SIZE_MAX / 2, &product) && product == SIZE_MAX - 1);
    assert_false(oi_size_mul(2, SIZE_MAX / 2 + 1, &product));
    assert_false(oi_size_mul(SIZE_MAX, SIZE_MAX, &product));
    assert_false(oi_size_mul((size_t)1 << 32, (size_t)1 << 32, &product));
    assert_true(oi_size_mul((size_t)1 << 31, (size_t)1 << 32, &product) && product == (size_t)1 << 63);

    size_t bytes = 0;
    assert_ok(oi_size_bytes("a table", 3, 5, sizeof(float), &bytes));
    assert_int_equal(bytes, 60);
    assert_ok(oi_size_bytes("a table", SIZE_MAX / 4, 1, 4, &bytes));
    assert_int_equal(bytes, SIZE_MAX / 4 * 4);
    /* The product of the counts fits, its bytes do not. */
    assert_int_equal(oi_size_bytes("a table", SIZE_MAX / 4 + 1, 1, 4, &bytes), OCLINIT_ERROR_SIZE_OVERFLOW);
    assert_non_null(strstr(oclinit_error_get_detail(), "a table: 4611686018427387904 x 1 values of 4 bytes"));
    assert_int_equal(oi_size_bytes("the points", (size_t)1 << 62, 2, 4, &bytes), OCLINIT_ERROR_SIZE_OVERFLOW);
    assert_string_equal(oclinit_status_str(OCLINIT_ERROR_SIZE_OVERFLOW), "size too large");
}

static void overflowing_sizes_are_refused(void **state) {
    (void)state;
    float x[8] = {0}, y[4] = {0};
    /* 2^62 samples of 2 floats: 2^65 bytes. Refused before a single point is written. */
    assert_int_equal(oclinit_dataset_make(OCLINIT_DATASET_CIRCLES, (size_t)1 << 62, 0.1, 0, 0, x, y),
                     OCLINIT_ERROR_SIZE_OVERFLOW);
    assert_non_null(strstr(oclinit_error_get_detail(), "the data set's points"));
    assert_true(x[0] == 0 && y[0] == 0);

    oclinit_table_t t = NULL;
    assert_int_equal(oclinit_table_create(SIZE_MAX / 2, 3, data, &t), OCLINIT_ERROR_SIZE_OVERFLOW);
    assert_int_equal(oclinit_table_create((size_t)1 << 31, (size_t)1 << 31, data, &t), OCLINIT_ERROR_SIZE_OVERFLOW);
    assert_null(t);

    /* A layer whose bytes do not fit 2^63. */
    oclinit_distribution d;
    assert_int_equal(oclinit_scheme_resolve(&scheme, INT64_MAX, 2, &d), OCLINIT_ERROR_SIZE_OVERFLOW);
    assert_int_equal(oclinit_scheme_resolve(&scheme, (int64_t)1 << 31, (int64_t)1 << 31, &d),
                     OCLINIT_ERROR_SIZE_OVERFLOW);

    /* The network's buffers for samples x inputs, and batch x its widest layer, beyond a size_t: refused before
     * anything is allocated, and the network still works on sizes that fit. */
    assert_int_equal(oi_net_reserve(network, SIZE_MAX / 2, 4), OCLINIT_ERROR_SIZE_OVERFLOW);
    assert_non_null(strstr(oclinit_error_get_detail(), "the samples' inputs"));
    assert_int_equal(oi_net_reserve(network, 4, SIZE_MAX / 8), OCLINIT_ERROR_SIZE_OVERFLOW);
    assert_non_null(strstr(oclinit_error_get_detail(), "a batch's activations"));
    assert_ok(oclinit_network_predict(network, data, 4, floats));
}

/* Numbers out of float32's range are refused with the value as given, never a wrapped or converted one. */
static void scheme_values_are_quoted(void **state) {
    (void)state;
    oclinit_scheme s = oclinit_scheme_default(OCLINIT_SCHEME_NORMAL);
    oclinit_distribution d;
    s.std = 1e39;
    assert_int_equal(oclinit_scheme_resolve(&s, 4, 4, &d), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "std = 1e+39"));
    s.std = 1;
    s.mean = -1e39;
    assert_int_equal(oclinit_scheme_resolve(&s, 4, 4, &d), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "mean = -1e+39"));
    s.mean = 0;
    s.std = 1e-50;
    assert_int_equal(oclinit_scheme_resolve(&s, 4, 4, &d), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "std = 1e-50 is too small for float32"));
    oclinit_scheme xavier = oclinit_scheme_default(OCLINIT_SCHEME_XAVIER_NORMAL);
    xavier.gain = 1e39;
    assert_int_equal(oclinit_scheme_resolve(&xavier, 4, 4, &d), OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "xavier-normal: std = 5e+38"));
    assert_int_equal(oclinit_dataset_make(OCLINIT_DATASET_MOONS, 4, 1e39, 0, 0, floats, floats + 8),
                     OCLINIT_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(oclinit_error_get_detail(), "got 1e+39"));
}

/* Made in slices, the noise of a data set is the noise made whole. */
static void dataset_noise_in_slices(void **state) {
    (void)state;
    enum { SAMPLES = (1 << 19) + 3 };
    float *x = malloc(2 * SAMPLES * sizeof(float)), *y = malloc(SAMPLES * sizeof(float));
    float *clean = malloc(2 * SAMPLES * sizeof(float)), *noise = malloc(2 * SAMPLES * sizeof(float));
    assert_true(x && y && clean && noise);
    assert_ok(oclinit_dataset_make(OCLINIT_DATASET_SPIRALS, SAMPLES, 0.25, 9, 4, x, y));
    assert_ok(oclinit_dataset_make(OCLINIT_DATASET_SPIRALS, SAMPLES, 0, 9, 4, clean, y));
    oclinit_distribution d = {.kind = OCLINIT_DISTRIBUTION_NORMAL, .std = 0.25f, .shape = {2, {SAMPLES, 2}}};
    assert_ok(oclinit_init_fill_host(NULL, &d, 9, 5, 0, 2 * SAMPLES, noise));
    for (size_t i = 0; i < 2 * SAMPLES; i++) {
        float expected = clean[i] + noise[i];
        if (memcmp(&x[i], &expected, sizeof expected) != 0)
            print_error("element %zu: %.9g vs %.9g\n", i, x[i], expected);
        assert_memory_equal(&x[i], &expected, sizeof expected);
    }
    free(noise);
    free(clean);
    free(y);
    free(x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_pointers_are_refused), cmocka_unit_test(getters_return_empty_values),
        cmocka_unit_test(size_multiplication_edges), cmocka_unit_test(overflowing_sizes_are_refused),
        cmocka_unit_test(scheme_values_are_quoted),  cmocka_unit_test(dataset_noise_in_slices),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
