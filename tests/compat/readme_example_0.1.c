#include <oclinit.h>
#include <stdio.h>

int main(void) {
    static float w[256 * 784]; /* (fan_out, fan_in), row-major */
    oclinit_runtime_t rt = NULL;
    oclinit_scheme scheme = oclinit_scheme_default(OCLINIT_SCHEME_KAIMING_NORMAL);
    oclinit_distribution dist;
    oclinit_status s = oclinit_runtime_create(NULL, &rt); /* NULL: $OCLINIT_DEVICE or the default */
    if (s == OCLINIT_SUCCESS) s = oclinit_scheme_resolve(&scheme, 784, 256, &dist);
    if (s == OCLINIT_SUCCESS) s = oclinit_init_fill_host(rt, &dist, 42, 0, 0, 256 * 784, w);
    if (s != OCLINIT_SUCCESS) fprintf(stderr, "%s: %s\n", oclinit_status_str(s), oclinit_error_detail());
    else printf("w[0][0] = %f, made on %s\n", w[0], oclinit_runtime_get_device(rt)->name);
    oclinit_runtime_free(rt);
    return s != OCLINIT_SUCCESS;
}
