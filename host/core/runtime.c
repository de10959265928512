/* The OpenCL runtime: finding platforms and devices, choosing one, building kernels, allocating buffers. */
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/core.h"

#define NO_PLATFORM_ADVICE                                                                                             \
    "no OpenCL platform found: install an OpenCL driver (on Debian or Ubuntu, `apt-get install "                       \
    "pocl-opencl-icd` gives one for the CPU), or use --device cpu for the host C path"

typedef struct device_entry {
    cl_device_id id;
    oclinit_device_info info;
} device_entry;

static oclinit_device_type device_type_from_cl(cl_device_type type) {
    if (type & CL_DEVICE_TYPE_GPU) return OCLINIT_DEVICE_GPU;
    if (type & CL_DEVICE_TYPE_CPU) return OCLINIT_DEVICE_CPU;
    if (type & CL_DEVICE_TYPE_ACCELERATOR) return OCLINIT_DEVICE_ACCELERATOR;
    return OCLINIT_DEVICE_OTHER;
}

const char *oclinit_device_type_str(oclinit_device_type type) {
    switch (type) {
    case OCLINIT_DEVICE_HOST: return "host";
    case OCLINIT_DEVICE_CPU: return "CPU";
    case OCLINIT_DEVICE_GPU: return "GPU";
    case OCLINIT_DEVICE_ACCELERATOR: return "accelerator";
    case OCLINIT_DEVICE_OTHER: break;
    }
    return "other";
}

/* Copies src without surrounding blanks, cut to fit (drivers pad some names with spaces). */
static void trim_copy(char *dst, size_t size, const char *src) {
    while (isspace((unsigned char)*src)) src++;
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    while (n > 0 && isspace((unsigned char)dst[n - 1])) n--;
    dst[n] = '\0';
}

size_t oi_memory_limit(void) {
    static const int resources[] = {RLIMIT_AS, RLIMIT_DATA};
    size_t limit = 0;
    for (size_t i = 0; i < OI_COUNT(resources); i++) {
        struct rlimit r;
        if (getrlimit(resources[i], &r) == 0 && r.rlim_cur != RLIM_INFINITY && (!limit || r.rlim_cur < limit))
            limit = r.rlim_cur > SIZE_MAX ? SIZE_MAX : (size_t)r.rlim_cur;
    }
    return limit;
}

/* Drivers that cannot map their libraries or allocate fail in many ways, none of which says that the limit is why. */
void oi_memory_hint(char *text, size_t size) {
    size_t limit = oi_memory_limit();
    if (limit)
        snprintf(text, size, "; too little memory? This process may use only %zu MiB (ulimit -v or -d)", limit >> 20);
    else
        text[0] = '\0';
}

/* An OpenCL call that lists or describes platforms and devices failed with error. */
static oclinit_status listing_failed(cl_int error, const char *what) {
    char hint[128];
    oi_memory_hint(hint, sizeof hint);
    return oi_fail((oclinit_status)error, "%s failed: %s%s", what, oclinit_status_str((oclinit_status)error), hint);
}

/* Copies the first line of path, without surrounding blanks; false when it cannot be read. */
static bool read_first_line(const char *path, char *line, size_t size) {
    FILE *f = fopen(path, "r");
    char text[PATH_MAX];
    bool read = f && fgets(text, sizeof text, f);
    if (f) fclose(f);
    if (read) trim_copy(line, size, text);
    return read && line[0];
}

/* The first OpenCL driver registered with the ICD loader (ocl-icd's and Khronos's rules): the first library of
 * OCL_ICD_FILENAMES, else the library that the first *.icd file of OCL_ICD_VENDORS (a directory or one file) or of
 * /etc/OpenCL/vendors names. *where says where it was found; false when no driver is registered. */
static bool registered_driver(char *where, size_t where_size, char *library, size_t library_size) {
    const char *filenames = getenv("OCL_ICD_FILENAMES");
    if (filenames && *filenames) {
        snprintf(where, where_size, "OCL_ICD_FILENAMES");
        snprintf(library, library_size, "%.*s", (int)strcspn(filenames, ":"), filenames);
        return true;
    }
    const char *vendors = getenv("OCL_ICD_VENDORS");
    if (!vendors || !*vendors) vendors = "/etc/OpenCL/vendors";
    DIR *dir = opendir(vendors);
    if (!dir) {
        snprintf(where, where_size, "%s", vendors);
        return read_first_line(vendors, library, library_size);
    }
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(dir)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= 4 || strcmp(e->d_name + n - 4, ".icd") != 0) continue;
        snprintf(where, where_size, "%s/%s", vendors, e->d_name);
        found = read_first_line(where, library, library_size);
    }
    closedir(dir);
    return found;
}

/* The ICD loader skips a registered driver that fails to load without a word, and then reports no platform: so
 * that means no driver only when none is registered. Otherwise this loads the registered driver itself, for the
 * reason (a library missing, or too little memory to map it under ulimit -v). */
static oclinit_status no_platform(void) {
    char where[PATH_MAX + 16], library[PATH_MAX], hint[128];
    if (!registered_driver(where, sizeof where, library, sizeof library))
        return oi_fail(OCLINIT_ERROR_NO_PLATFORM, NO_PLATFORM_ADVICE);
    oi_memory_hint(hint, sizeof hint);
    void *driver = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (!driver)
        return oi_fail(OCLINIT_ERROR_NO_PLATFORM, "the OpenCL driver %s (registered in %s) cannot be loaded: %s%s",
                       library, where, dlerror(), hint);
    dlclose(driver);
    return oi_fail(OCLINIT_ERROR_NO_PLATFORM, "the OpenCL driver %s (registered in %s) offers no platform%s", library,
                   where, hint);
}

/* The implementation's short name, the one users type (`--device pocl`): platform names such as "Portable Computing
 * Language" or "NVIDIA CUDA" are not. An unknown platform keeps its own name. */
static void implementation_name(const char *platform, char *name, size_t size) {
    static const struct {
        const char *platform, *name;
    } known[] = {{"Portable Computing Language", "PoCL"},
                 {"rusticl", "rusticl"},
                 {"Clover", "Clover"},
                 {"NVIDIA", "NVIDIA"},
                 {"AMD Accelerated Parallel Processing", "AMD"},
                 {"Intel", "Intel"},
                 {"Apple", "Apple"}};
    for (size_t i = 0; i < OI_COUNT(known); i++)
        if (strncmp(platform, known[i].platform, strlen(known[i].platform)) == 0) {
            snprintf(name, size, "%s", known[i].name);
            return;
        }
    trim_copy(name, size, platform);
}

static oclinit_status describe_device(cl_platform_id platform, cl_device_id device, oclinit_device_info *info) {
    oclinit_status status = OCLINIT_SUCCESS;
    char text[256];
    cl_device_type type;
    cl_ulong global_memory, max_allocation;
    cl_uint compute_units;
    cl_device_fp_config single_config, double_config = 0;
    memset(info, 0, sizeof *info);
    OI_CL_CHECK(clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof text, text, NULL));
    trim_copy(info->platform_name, sizeof info->platform_name, text);
    implementation_name(info->platform_name, info->implementation, sizeof info->implementation);
    OI_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_NAME, sizeof text, text, NULL));
    trim_copy(info->name, sizeof info->name, text);
    OI_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_VERSION, sizeof text, text, NULL));
    trim_copy(info->version, sizeof info->version, text);
    OI_CL_CHECK(clGetDeviceInfo(device, CL_DRIVER_VERSION, sizeof text, text, NULL));
    trim_copy(info->driver_version, sizeof info->driver_version, text);
    OI_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof type, &type, NULL));
    OI_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global_memory, &global_memory, NULL));
    OI_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_allocation, &max_allocation, NULL));
    OI_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof compute_units, &compute_units, NULL));
    OI_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof single_config, &single_config, NULL));
    /* Devices without fp64 may reject the query instead of answering 0. */
    if (clGetDeviceInfo(device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof double_config, &double_config, NULL) != CL_SUCCESS)
        double_config = 0;
    info->type = device_type_from_cl(type);
    info->global_memory = global_memory;
    info->max_allocation = max_allocation;
    info->compute_units = compute_units;
    info->fp64 = double_config != 0;
    info->correctly_rounded_divide_sqrt = (single_config & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
cleanup:
    return status == OCLINIT_SUCCESS ? status : listing_failed((cl_int)status, "describing an OpenCL device");
}

static bool contains_ignoring_case(const char *haystack, const char *needle) {
    size_t n = strlen(needle);
    for (; *haystack; haystack++) {
        size_t i = 0;
        while (i < n && haystack[i] && tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return true;
    }
    return n == 0;
}

/* The platforms the ICD loader offers; the caller frees *platforms. Fails when there is none. */
static oclinit_status platform_ids(cl_platform_id **platforms, cl_uint *count) {
    cl_uint n = 0;
    *platforms = NULL;
    *count = 0;
    cl_int error = clGetPlatformIDs(0, NULL, &n);
    if (error == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (error == CL_SUCCESS && n == 0)) return no_platform();
    if (error != CL_SUCCESS) return listing_failed(error, "OpenCL's platform list");
    *platforms = malloc(n * sizeof **platforms);
    if (!*platforms) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "listing OpenCL platforms");
    error = clGetPlatformIDs(n, *platforms, NULL);
    if (error != CL_SUCCESS) {
        free(*platforms);
        *platforms = NULL;
        return listing_failed(error, "OpenCL's platform list");
    }
    *count = n;
    return OCLINIT_SUCCESS;
}

/* A platform whose device list came back with listing (an error, or CL_SUCCESS with none in it). */
static void describe_platform(cl_platform_id platform, cl_uint index, cl_int listing, oi_platform_info *info) {
    char text[256];
    memset(info, 0, sizeof *info);
    info->platform_index = index;
    info->listing = listing == CL_DEVICE_NOT_FOUND ? OCLINIT_SUCCESS : (oclinit_status)listing;
    if (clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof text, text, NULL) == CL_SUCCESS)
        trim_copy(info->name, sizeof info->name, text);
    if (clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof text, text, NULL) == CL_SUCCESS)
        trim_copy(info->version, sizeof info->version, text);
    implementation_name(info->name, info->implementation, sizeof info->implementation);
}

oclinit_status oi_platform_list_empty(oi_platform_info **platforms, size_t *count) {
    cl_platform_id *ids = NULL;
    cl_uint platform_count = 0;
    *platforms = NULL;
    *count = 0;
    oclinit_status status = platform_ids(&ids, &platform_count);
    if (status != OCLINIT_SUCCESS) return status;
    oi_platform_info *list = calloc(platform_count, sizeof *list);
    if (!list) {
        free(ids);
        return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "listing OpenCL platforms");
    }
    for (cl_uint p = 0; p < platform_count; p++) {
        cl_uint device_count = 0;
        cl_int error = clGetDeviceIDs(ids[p], CL_DEVICE_TYPE_ALL, 0, NULL, &device_count);
        if (error != CL_SUCCESS || device_count == 0) describe_platform(ids[p], p, error, &list[(*count)++]);
    }
    free(ids);
    *platforms = list;
    return OCLINIT_SUCCESS;
}

bool oi_platform_advice(const char *implementation, char *text, size_t size) {
    const char *enabled = getenv("RUSTICL_ENABLE");
    if (strcmp(implementation, "rusticl") != 0)
        text[0] = '\0';
    else if (!enabled || !*enabled)
        snprintf(text, size, "rusticl offers only the drivers named in RUSTICL_ENABLE, e.g. RUSTICL_ENABLE=llvmpipe");
    else
        snprintf(text, size,
                 "rusticl offers only the drivers named in RUSTICL_ENABLE, and none of \"%s\" starts here; "
                 "RUSTICL_ENABLE=llvmpipe runs on the CPU",
                 enabled);
    return text[0] != '\0';
}

/* The first platform without devices whose name or implementation contains spec, or with spec NULL the first whose
 * lack of devices oi_platform_advice explains, with that advice; false when there is none. */
static bool empty_platform(const char *spec, oi_platform_info *found, char *advice, size_t size) {
    oi_platform_info *empty = NULL;
    size_t count = 0;
    bool matched = false;
    advice[0] = '\0';
    if (oi_platform_list_empty(&empty, &count) != OCLINIT_SUCCESS) return false;
    for (size_t i = 0; i < count && !matched; i++) {
        bool explained = oi_platform_advice(empty[i].implementation, advice, size);
        matched =
            spec ? contains_ignoring_case(empty[i].name, spec) || contains_ignoring_case(empty[i].implementation, spec)
                 : explained;
        if (matched) *found = empty[i];
    }
    if (!matched) advice[0] = '\0';
    free(empty);
    return matched;
}

/* All devices of all platforms; the caller frees *entries. */
static oclinit_status enumerate_devices(device_entry **entries, size_t *count) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_platform_id *platforms = NULL;
    cl_device_id *devices = NULL;
    device_entry *list = NULL;
    size_t total = 0;
    cl_uint platform_count = 0;
    cl_int error, skipped = CL_SUCCESS;
    *entries = NULL;
    *count = 0;

    OI_CHECK(platform_ids(&platforms, &platform_count));
    for (cl_uint p = 0; p < platform_count; p++) {
        cl_uint device_count = 0;
        error = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &device_count);
        if (error == CL_DEVICE_NOT_FOUND || (error == CL_SUCCESS && device_count == 0)) continue;
        /* A platform whose devices cannot be listed leaves the others usable; it is reported when none is. */
        if (error != CL_SUCCESS) {
            if (skipped == CL_SUCCESS) skipped = error;
            continue;
        }
        free(devices);
        devices = malloc(device_count * sizeof *devices);
        device_entry *grown = realloc(list, (total + device_count) * sizeof *list);
        if (!devices || !grown) {
            status = oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "listing OpenCL devices");
            goto cleanup;
        }
        list = grown;
        error = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, device_count, devices, NULL);
        if (error != CL_SUCCESS) {
            if (skipped == CL_SUCCESS) skipped = error;
            continue;
        }
        for (cl_uint d = 0; d < device_count; d++) {
            device_entry *entry = &list[total++];
            entry->id = devices[d];
            OI_CHECK(describe_device(platforms[p], devices[d], &entry->info));
            entry->info.platform_index = p;
            entry->info.device_index = d;
        }
    }
    if (total == 0) {
        /* A driver that cannot start its device under a memory limit (PoCL's threads) lists none. */
        char hint[128], advice[256];
        oi_platform_info empty;
        oi_memory_hint(hint, sizeof hint);
        empty_platform(NULL, &empty, advice, sizeof advice);
        status = skipped != CL_SUCCESS ? listing_failed(skipped, "OpenCL's device list")
                                       : oi_fail(OCLINIT_ERROR_DEVICE_NOT_FOUND,
                                                 "the OpenCL platforms here have no device%s%s%s; --device cpu runs "
                                                 "the host C path",
                                                 hint, advice[0] ? "; " : "", advice);
        goto cleanup;
    }
    *entries = list;
    *count = total;
    list = NULL;
cleanup:
    free(list);
    free(devices);
    free(platforms);
    return status;
}

oclinit_status oclinit_device_list(oclinit_device_info *devices, size_t capacity, size_t *count) {
    device_entry *entries = NULL;
    size_t total = 0;
    OI_REQUIRE(count, "count");
    OI_REQUIRE(devices || capacity == 0, "devices");
    *count = 0;
    oclinit_status status = enumerate_devices(&entries, &total);
    if (status != OCLINIT_SUCCESS) return status;
    for (size_t i = 0; i < total && i < capacity; i++) devices[i] = entries[i].info;
    *count = total;
    free(entries);
    return OCLINIT_SUCCESS;
}

/* "P:D", two whole numbers with an optional sign. *in_range is false when one is negative or too large for an index:
 * such a pair names no device (rather than the index it would wrap to). */
static bool parse_index_pair(const char *spec, unsigned *platform, unsigned *device, bool *in_range) {
    unsigned long long values[2];
    const char *p = spec;
    *in_range = true;
    for (int k = 0; k < 2; k++) {
        bool negative = *p == '-';
        if (*p == '-' || *p == '+') p++;
        if (!isdigit((unsigned char)*p)) return false;
        char *end;
        errno = 0;
        values[k] = strtoull(p, &end, 10);
        if (negative || errno == ERANGE || values[k] > UINT_MAX) *in_range = false;
        if (*end != (k == 0 ? ':' : '\0')) return false;
        p = end + 1;
    }
    *platform = (unsigned)values[0];
    *device = (unsigned)values[1];
    return true;
}

/* The rank of this process among those of one job on this machine (oi_runtime_set_local_rank). */
static unsigned local_rank;

void oi_runtime_set_local_rank(unsigned rank) {
    local_rank = rank;
}

/* The default: the first GPU, else the first CPU, else the first device; for local rank n, the n-th device (wrapping)
 * of that one's platform and type, so that the ranks of a job on one machine take a GPU each. */
static size_t default_device(const device_entry *entries, size_t count) {
    size_t first = 0, same = 0;
    bool found = false;
    for (size_t i = 0; i < count && !found; i++)
        if (entries[i].info.type == OCLINIT_DEVICE_GPU) first = i, found = true;
    for (size_t i = 0; i < count && !found; i++)
        if (entries[i].info.type == OCLINIT_DEVICE_CPU) first = i, found = true;
    const oclinit_device_info *d = &entries[first].info;
    for (size_t i = 0; i < count; i++)
        same += entries[i].info.platform_index == d->platform_index && entries[i].info.type == d->type;
    for (size_t i = first, k = 0; i < count; i++)
        if (entries[i].info.platform_index == d->platform_index && entries[i].info.type == d->type &&
            k++ == local_rank % same)
            return i;
    return first;
}

/* The entry that spec names, or the default. */
static oclinit_status choose_device(const device_entry *entries, size_t count, const char *spec, size_t *chosen) {
    unsigned platform, device;
    bool in_range;
    if (!spec || !*spec) return *chosen = default_device(entries, count), OCLINIT_SUCCESS;
    if (parse_index_pair(spec, &platform, &device, &in_range)) {
        for (size_t i = 0; in_range && i < count; i++)
            if (entries[i].info.platform_index == platform && entries[i].info.device_index == device)
                return *chosen = i, OCLINIT_SUCCESS;
        return oi_fail(OCLINIT_ERROR_DEVICE_NOT_FOUND, "no device %s; `oclinit devices` lists what there is", spec);
    }
    /* A device's own name first, so that a platform's name never hides a device named more precisely. */
    for (size_t i = 0; i < count; i++)
        if (contains_ignoring_case(entries[i].info.name, spec)) return *chosen = i, OCLINIT_SUCCESS;
    for (size_t i = 0; i < count; i++)
        if (contains_ignoring_case(entries[i].info.platform_name, spec) ||
            contains_ignoring_case(entries[i].info.implementation, spec))
            return *chosen = i, OCLINIT_SUCCESS;
    /* rusticl without RUSTICL_ENABLE, Clover without a GPU: the platform is there, with nothing to choose. */
    oi_platform_info empty;
    char advice[256];
    if (empty_platform(spec, &empty, advice, sizeof advice))
        return oi_fail(OCLINIT_ERROR_DEVICE_NOT_FOUND,
                       "platform \"%s\" has no device%s%s; `oclinit devices` lists what there is, and --device cpu "
                       "runs the host C path",
                       empty.name, advice[0] ? ": " : "", advice);
    return oi_fail(OCLINIT_ERROR_DEVICE_NOT_FOUND,
                   "no device whose name contains \"%s\", nor any platform or implementation; `oclinit devices` "
                   "lists what there is, and --device cpu runs the host C path",
                   spec);
}

static bool is_host_spec(const char *spec) {
    return spec && (strcmp(spec, "cpu") == 0 || strcmp(spec, "CPU") == 0 || strcmp(spec, "host") == 0);
}

/* The device a spec names (NULL id and a host description for "cpu"). */
static oclinit_status find_device(const char *spec, cl_device_id *id, oclinit_device_info *info) {
    device_entry *entries = NULL;
    size_t count = 0, chosen = 0;
    if (!spec || !*spec) spec = getenv("OCLINIT_DEVICE");
    if (is_host_spec(spec)) {
        memset(info, 0, sizeof *info);
        info->type = OCLINIT_DEVICE_HOST;
        snprintf(info->name, sizeof info->name, "host C path");
        snprintf(info->platform_name, sizeof info->platform_name, "none");
        snprintf(info->implementation, sizeof info->implementation, "host");
        *id = NULL;
        return OCLINIT_SUCCESS;
    }
    oclinit_status status = enumerate_devices(&entries, &count);
    if (status == OCLINIT_SUCCESS) status = choose_device(entries, count, spec, &chosen);
    if (status == OCLINIT_SUCCESS) {
        *info = entries[chosen].info;
        *id = entries[chosen].id;
    }
    free(entries);
    return status;
}

oclinit_status oclinit_device_find(const char *device, oclinit_device_info *info) {
    cl_device_id id;
    OI_REQUIRE(info, "info");
    return find_device(device, &id, info);
}

/* CPUs run a work-item's lanes as one SIMD vector (kernels/compat.h); GPUs vectorize across work-items. */
static unsigned device_lanes(const oclinit_device_info *info) {
    return info->type == OCLINIT_DEVICE_CPU ? 16 : 1;
}

oclinit_status oclinit_runtime_create(const char *device, oclinit_runtime_t *runtime) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_runtime_t rt = NULL;
    cl_int error;

    OI_REQUIRE(runtime, "runtime");
    *runtime = NULL;
    rt = calloc(1, sizeof *rt);
    if (!rt) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating the runtime");
    OI_CHECK(find_device(device, &rt->device, &rt->info));
    if (rt->device) {
        rt->lanes = device_lanes(&rt->info);
        rt->context = clCreateContext(NULL, 1, &rt->device, NULL, NULL, &error);
        OI_CL_CHECK(error);
        rt->queue = clCreateCommandQueue(rt->context, rt->device, 0, &error);
        OI_CL_CHECK(error);
    }
    *runtime = rt;
    rt = NULL;
cleanup:
    oclinit_runtime_free(rt);
    return status;
}

oclinit_status oclinit_runtime_create_from_queue(cl_command_queue queue, oclinit_runtime_t *runtime) {
    oclinit_status status = OCLINIT_SUCCESS;
    oclinit_runtime_t rt = NULL;
    cl_platform_id platform;
    device_entry *entries = NULL;
    size_t count = 0;

    OI_REQUIRE(queue, "queue");
    OI_REQUIRE(runtime, "runtime");
    *runtime = NULL;
    rt = calloc(1, sizeof *rt);
    if (!rt) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating the runtime");
    OI_CL_CHECK(clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof rt->device, &rt->device, NULL));
    OI_CL_CHECK(clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof rt->context, &rt->context, NULL));
    OI_CL_CHECK(clGetDeviceInfo(rt->device, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL));
    OI_CHECK(describe_device(platform, rt->device, &rt->info));
    /* The indices `oclinit devices` would show, when the device is among those the ICD loader lists. */
    if (enumerate_devices(&entries, &count) == OCLINIT_SUCCESS)
        for (size_t i = 0; i < count; i++)
            if (entries[i].id == rt->device) {
                rt->info.platform_index = entries[i].info.platform_index;
                rt->info.device_index = entries[i].info.device_index;
            }
    oi_clear_error();
    OI_CL_CHECK(clRetainCommandQueue(queue));
    rt->queue = queue;
    OI_CL_CHECK(clRetainContext(rt->context));
    rt->lanes = device_lanes(&rt->info);
    *runtime = rt;
    rt = NULL;
cleanup:
    free(entries);
    if (rt) rt->context = NULL; /* not retained yet when a check failed before clRetainContext */
    oclinit_runtime_free(rt);
    return status;
}

void oclinit_runtime_free(oclinit_runtime_t runtime) {
    if (!runtime) return;
    for (size_t s = OI_STATE_SLOTS; s-- > 0;) free(runtime->states[s].data);
    for (size_t k = runtime->kernel_count; k-- > 0;) clReleaseKernel(runtime->kernels[k].kernel);
    for (size_t p = runtime->program_count; p-- > 0;) clReleaseProgram(runtime->programs[p].built);
    if (runtime->queue) clReleaseCommandQueue(runtime->queue);
    if (runtime->context) clReleaseContext(runtime->context);
    free(runtime->build_log);
    free(runtime);
}

bool oi_runtime_on_host(oclinit_runtime_t runtime) {
    return !runtime || !runtime->device;
}

bool oi_runtime_shares_memory(oclinit_runtime_t runtime) {
    return !oi_runtime_on_host(runtime) && runtime->info.type == OCLINIT_DEVICE_CPU;
}

const oclinit_device_info *oclinit_runtime_get_device(oclinit_runtime_t runtime) {
    OI_REQUIRE_OR(runtime, "runtime", NULL);
    return &runtime->info;
}

cl_context oclinit_runtime_get_context(oclinit_runtime_t runtime) {
    OI_REQUIRE_OR(runtime, "runtime", NULL);
    return runtime->context;
}

cl_command_queue oclinit_runtime_get_queue(oclinit_runtime_t runtime) {
    OI_REQUIRE_OR(runtime, "runtime", NULL);
    return runtime->queue;
}

const char *oclinit_runtime_get_build_log(oclinit_runtime_t runtime) {
    OI_REQUIRE_OR(runtime, "runtime", "");
    return runtime->build_log ? runtime->build_log : "";
}

static void keep_build_log(oclinit_runtime_t runtime, cl_program program) {
    size_t size = 0;
    free(runtime->build_log);
    runtime->build_log = NULL;
    if (clGetProgramBuildInfo(program, runtime->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size) != CL_SUCCESS) return;
    runtime->build_log = malloc(size + 1);
    if (!runtime->build_log) return;
    if (clGetProgramBuildInfo(program, runtime->device, CL_PROGRAM_BUILD_LOG, size, runtime->build_log, NULL) !=
        CL_SUCCESS)
        size = 0;
    runtime->build_log[size] = '\0';
}

static oclinit_status build(oclinit_runtime_t runtime, const char *name, const char *source, unsigned lanes,
                            cl_program *program) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_program built = NULL;
    cl_int error;
    char options[64];

    if (!runtime->device) return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "the host C path has no kernels to build");
    built = clCreateProgramWithSource(runtime->context, 1, &source, NULL, &error);
    OI_CL_CHECK(error);
    snprintf(options, sizeof options, "-D OI_LANES=%u", lanes);
    error = clBuildProgram(built, 1, &runtime->device, options, NULL, NULL);
    keep_build_log(runtime, built);
    if (error == CL_BUILD_PROGRAM_FAILURE || error == CL_INVALID_BUILD_OPTIONS) {
        status = oi_fail(OCLINIT_ERROR_KERNEL_BUILD, "building %s for %s failed:\n%s", name, runtime->info.name,
                         oclinit_runtime_get_build_log(runtime));
        goto cleanup;
    }
    OI_CL_CHECK(error);
    *program = built;
    built = NULL;
cleanup:
    if (built) clReleaseProgram(built);
    return status;
}

oclinit_status oi_runtime_build(oclinit_runtime_t runtime, const char *name, const char *source, cl_program *program) {
    return build(runtime, name, source, runtime->lanes, program);
}

oclinit_status oi_runtime_set_lanes(oclinit_runtime_t runtime, unsigned lanes) {
    if (lanes != 1 && lanes != 2 && lanes != 4 && lanes != 8 && lanes != 16)
        return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "lanes must be 1, 2, 4, 8 or 16, got %u", lanes);
    if (runtime->program_count) return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "kernels are already built");
    runtime->lanes = lanes;
    return OCLINIT_SUCCESS;
}

/* The program built for the runtime from p at the lanes p asks for, built now if it is not cached yet. */
static oclinit_status cached_program(oclinit_runtime_t runtime, const oi_program *p, cl_program *program) {
    oclinit_status status = OCLINIT_SUCCESS;
    unsigned lanes = p->lanes ? p->lanes : runtime->lanes;
    for (size_t i = 0; i < runtime->program_count; i++)
        if (runtime->programs[i].program == p && runtime->programs[i].lanes == lanes)
            return *program = runtime->programs[i].built, OCLINIT_SUCCESS;
    if (runtime->program_count == OI_CACHE_SIZE)
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "more than %d programs on one runtime", OI_CACHE_SIZE);
    OI_CHECK(build(runtime, p->name, p->source, lanes, program));
    runtime->programs[runtime->program_count].program = p;
    runtime->programs[runtime->program_count].lanes = lanes;
    runtime->programs[runtime->program_count++].built = *program;
cleanup:
    return status;
}

oclinit_status oi_runtime_kernel(oclinit_runtime_t runtime, const oi_program *p, const char *name, cl_kernel *kernel) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_program program = NULL;
    cl_int error;
    OI_CHECK(cached_program(runtime, p, &program));
    for (size_t i = 0; i < runtime->kernel_count; i++)
        if (runtime->kernels[i].program == program && strcmp(runtime->kernels[i].name, name) == 0)
            return *kernel = runtime->kernels[i].kernel, OCLINIT_SUCCESS;
    if (runtime->kernel_count == OI_CACHE_SIZE)
        return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "more than %d kernels on one runtime", OI_CACHE_SIZE);
    *kernel = clCreateKernel(program, name, &error);
    OI_CL_CHECK(error);
    runtime->kernels[runtime->kernel_count].program = program;
    runtime->kernels[runtime->kernel_count].name = name;
    runtime->kernels[runtime->kernel_count++].kernel = *kernel;
cleanup:
    return status;
}

oclinit_status oi_runtime_state(oclinit_runtime_t runtime, const void *key, size_t size, void **state) {
    size_t i = 0;
    *state = oi_runtime_find_state(runtime, key);
    if (*state) return OCLINIT_SUCCESS;
    while (i < OI_STATE_SLOTS && runtime->states[i].key) i++;
    if (i == OI_STATE_SLOTS) return oi_fail(OCLINIT_ERROR_NOT_SUPPORTED, "no free state slot on the runtime");
    *state = calloc(1, size);
    if (!*state) return oi_fail(OCLINIT_ERROR_OUT_OF_HOST_MEMORY, "allocating %zu bytes of runtime state", size);
    runtime->states[i].key = key;
    runtime->states[i].data = *state;
    return OCLINIT_SUCCESS;
}

void *oi_runtime_find_state(oclinit_runtime_t runtime, const void *key) {
    for (size_t i = 0; runtime && i < OI_STATE_SLOTS; i++)
        if (runtime->states[i].key == key) return runtime->states[i].data;
    return NULL;
}

oclinit_status oi_runtime_enqueue(oclinit_runtime_t runtime, cl_kernel kernel, size_t items, size_t group) {
    cl_int error =
        clEnqueueNDRangeKernel(runtime->queue, kernel, 1, NULL, &items, group ? &group : NULL, 0, NULL, NULL);
    return error == CL_SUCCESS ? OCLINIT_SUCCESS
                               : oi_fail((oclinit_status)error, "launching a kernel on %s: %s", runtime->info.name,
                                         oclinit_status_str((oclinit_status)error));
}

cl_mem oi_buffer_over(oclinit_runtime_t runtime, void *memory, size_t bytes) {
    cl_int error;
    if (!oi_runtime_shares_memory(runtime) || bytes > runtime->info.max_allocation) return NULL;
    cl_mem buffer = clCreateBuffer(runtime->context, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes, memory, &error);
    return error == CL_SUCCESS ? buffer : NULL;
}

oclinit_status oi_buffer_create(oclinit_runtime_t runtime, size_t bytes, cl_mem *buffer) {
    oclinit_status status = OCLINIT_SUCCESS;
    cl_int error;
    if (bytes > runtime->info.max_allocation)
        return oi_fail(OCLINIT_ERROR_OUT_OF_DEVICE_MEMORY,
                       "%s cannot allocate %.1f MiB in one buffer (its limit is %.1f MiB)", runtime->info.name,
                       bytes / 1048576.0, runtime->info.max_allocation / 1048576.0);
    *buffer = clCreateBuffer(runtime->context, CL_MEM_READ_WRITE, bytes, NULL, &error);
    if (error == CL_MEM_OBJECT_ALLOCATION_FAILURE || error == CL_OUT_OF_RESOURCES)
        return oi_fail(OCLINIT_ERROR_OUT_OF_DEVICE_MEMORY, "%s could not allocate %.1f MiB (%s)", runtime->info.name,
                       bytes / 1048576.0, oclinit_status_str((oclinit_status)error));
    OI_CL_CHECK(error);
cleanup:
    return status;
}

oclinit_status oi_set_kernel_args(cl_kernel kernel, cl_uint count, ...) {
    oclinit_status status = OCLINIT_SUCCESS;
    va_list args;
    va_start(args, count);
    for (cl_uint arg = 0; arg < count; arg++) {
        size_t size = va_arg(args, size_t);
        const void *value = va_arg(args, const void *);
        OI_CL_CHECK(clSetKernelArg(kernel, arg, size, value));
    }
cleanup:
    va_end(args);
    return status;
}
