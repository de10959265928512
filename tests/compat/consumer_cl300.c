/* A program on OpenCL 3.0 headers that makes its own context and queue with an OpenCL 2.0 call, hands the queue
 * to oclinit, and checks that the weights oclinit makes there equal the host C path's, bit for bit. */
#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>
#include <oclinit.h>
#include <stdio.h>
#include <string.h>

enum { COUNT = 4096 };

int main(void) {
    static float device_w[COUNT], host_w[COUNT];
    cl_platform_id platform;
    cl_device_id device;
    cl_int error = clGetPlatformIDs(1, &platform, NULL);
    if (error == CL_SUCCESS) error = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL);
    if (error != CL_SUCCESS) return fprintf(stderr, "no OpenCL device (%d)\n", error), 1;
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &error);
    cl_command_queue queue = clCreateCommandQueueWithProperties(context, device, NULL, &error); /* OpenCL 2.0 */
    cl_mem buffer = clCreateBuffer(context, CL_MEM_READ_WRITE, sizeof device_w, NULL, &error);
    if (error != CL_SUCCESS) return fprintf(stderr, "OpenCL setup failed (%d)\n", error), 1;

    oclinit_runtime_t on_queue = NULL, host = NULL;
    oclinit_scheme scheme = oclinit_scheme_default(OCLINIT_SCHEME_KAIMING_NORMAL);
    oclinit_distribution dist;
    oclinit_status s = oclinit_runtime_create_from_queue(queue, &on_queue);
    if (s == OCLINIT_SUCCESS) s = oclinit_runtime_create("cpu", &host);
    if (s == OCLINIT_SUCCESS) s = oclinit_scheme_resolve(&scheme, 64, 64, &dist);
    if (s == OCLINIT_SUCCESS) s = oclinit_init_fill_buffer(on_queue, &dist, 42, 7, 0, COUNT, buffer, 0);
    if (s == OCLINIT_SUCCESS) s = oclinit_init_fill_host(host, &dist, 42, 7, 0, COUNT, host_w);
    if (s != OCLINIT_SUCCESS) return fprintf(stderr, "%s: %s\n", oclinit_status_str(s), oclinit_error_get_detail()), 1;
    if (oclinit_runtime_get_queue(on_queue) != queue) return fprintf(stderr, "the runtime has another queue\n"), 1;
    error = clEnqueueReadBuffer(queue, buffer, CL_TRUE, 0, sizeof device_w, device_w, 0, NULL, NULL);
    if (error != CL_SUCCESS || memcmp(device_w, host_w, sizeof host_w) != 0)
        return fprintf(stderr, "weights made on the caller's queue differ from the host C path's\n"), 1;
    printf("OpenCL 3.0 consumer: oclinit on the program's own queue (%s) gives the host C path's bits\n",
           oclinit_runtime_get_device(on_queue)->name);
    oclinit_runtime_free(on_queue);
    oclinit_runtime_free(host);
    /* The queue and context are still the program's: oclinit released only its own references. */
    error = clFinish(queue);
    clReleaseMemObject(buffer);
    clReleaseCommandQueue(queue);
    clReleaseContext(context);
    return error != CL_SUCCESS;
}
