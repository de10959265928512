/* Line plots as SVG: axes with ticks and labels, a legend, one polyline per series. SVG is text a few dozen
 * lines of C can write, opens in any browser, and needs no plotting library at run time. */
#include <math.h>
#include <stdio.h>

#include "cli.h"

enum { WIDTH = 960, HEIGHT = 560, LEFT = 90, RIGHT = 250, TOP = 56, BOTTOM = 64 };

/* Okabe and Ito's palette: distinguishable with every common form of colour blindness. */
static const char *const colours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};

static void text_escaped(FILE *out, const char *text) {
    for (; *text; text++) {
        if (*text == '&')
            fputs("&amp;", out);
        else if (*text == '<')
            fputs("&lt;", out);
        else if (*text == '>')
            fputs("&gt;", out);
        else
            fputc(*text, out);
    }
}

/* A tick step of 1, 2 or 5 times a power of ten giving about five ticks over range. */
static double nice_step(double range) {
    double rough = range / 5, power = pow(10, floor(log10(rough))), scaled = rough / power;
    return (scaled < 1.5 ? 1 : scaled < 3.5 ? 2 : scaled < 7.5 ? 5 : 10) * power;
}

bool write_svg_plot(FILE *out, const char *title, const char *x_label, const char *y_label, unsigned scale,
                    const plot_series *series, size_t count) {
    bool log_x = scale & PLOT_LOG_X, log_y = scale & PLOT_LOG_Y;
    double x_min = INFINITY, x_max = log_x ? -INFINITY : 0, y_min = INFINITY, y_max = -INFINITY;
    for (size_t s = 0; s < count; s++) {
        for (size_t i = 0; i < series[s].count; i++) {
            double x = series[s].x[i], y = series[s].y[i];
            if (!isfinite(y) || (log_y && y <= 0) || (log_x && x <= 0)) continue;
            x_min = fmin(x_min, x);
            x_max = fmax(x_max, x);
            y_min = fmin(y_min, y);
            y_max = fmax(y_max, y);
        }
    }
    if (!isfinite(y_min)) y_min = 1, y_max = 10, x_min = 1, x_max = 2;
    if (x_max <= 0) x_max = 1;
    /* A log x axis runs over whole powers of two, a linear one from 0. */
    double x_lo = log_x ? floor(log2(x_min)) : 0, x_hi = log_x ? ceil(log2(x_max)) : x_max;
    if (x_hi <= x_lo) x_hi = x_lo + 1;
    double lo = log_y ? floor(log10(y_min)) : 0, hi = log_y ? ceil(log10(y_max)) : y_max * 1.05;
    if (hi <= lo) hi = lo + 1;
    double plot_w = WIDTH - LEFT - RIGHT, plot_h = HEIGHT - TOP - BOTTOM;
#define PX(x) (LEFT + ((log_x ? log2(x) : (x)) - x_lo) / (x_hi - x_lo) * plot_w)
#define PY(y) (TOP + plot_h - ((log_y ? log10(y) : (y)) - lo) / (hi - lo) * plot_h)

    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"sans-serif\" font-size=\"13\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            WIDTH, HEIGHT, WIDTH, HEIGHT);
    fprintf(out, "<text x=\"%d\" y=\"30\" font-size=\"16\" font-weight=\"bold\">", LEFT);
    text_escaped(out, title);
    fputs("</text>\n", out);
    /* Grid and ticks */
    double step = log_x ? ceil((x_hi - x_lo) / 8) : nice_step(x_max);
    for (double v = x_lo; v <= x_hi + 1e-9; v += step) {
        double x = log_x ? exp2(v) : v;
        char label[32];
        if (log_x && v >= 10)
            snprintf(label, sizeof label, "2^%.0f", v);
        else
            snprintf(label, sizeof label, "%g", x);
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                PX(x), TOP, PX(x), TOP + plot_h, PX(x), TOP + plot_h + 20, label);
    }
    double y_step = log_y ? 1 : nice_step(hi);
    for (double v = lo; v <= hi + 1e-9; v += y_step) {
        double y = log_y ? pow(10, v) : v;
        fprintf(out,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                LEFT, PY(y), LEFT + plot_w, PY(y), LEFT - 8, PY(y) + 4, y);
    }
    fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"black\"/>\n", LEFT, TOP,
            plot_w, plot_h);
    fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", LEFT + plot_w / 2, HEIGHT - 18);
    text_escaped(out, x_label);
    fprintf(out, "</text>\n<text transform=\"translate(24 %.1f) rotate(-90)\" text-anchor=\"middle\">",
            TOP + plot_h / 2);
    text_escaped(out, y_label);
    fputs("</text>\n", out);
    /* Series and legend */
    for (size_t s = 0; s < count; s++) {
        const char *colour = colours[s % (sizeof colours / sizeof colours[0])];
        /* Every other series dashed, so curves that coincide (zeros and too small, say) both show. */
        const char *dash = s % 2 ? " stroke-dasharray=\"7 4\"" : "";
        fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", colour, dash);
        for (size_t i = 0; i < series[s].count; i++) {
            double y = series[s].y[i];
            if (!isfinite(y) || (log_y && y <= 0) || (log_x && series[s].x[i] <= 0)) continue;
            fprintf(out, "%.1f,%.1f ", PX(series[s].x[i]), PY(y));
        }
        fputs("\"/>\n", out);
        double legend_y = TOP + 16 + 24.0 * (double)s;
        fprintf(out,
                "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"%s/>"
                "<text x=\"%.0f\" y=\"%.1f\">",
                LEFT + plot_w + 16, legend_y, LEFT + plot_w + 44, legend_y, colour, dash, LEFT + plot_w + 52,
                legend_y + 4);
        text_escaped(out, series[s].name);
        fputs("</text>\n", out);
    }
    fputs("</svg>\n", out);
#undef PX
#undef PY
    return !ferror(out);
}
