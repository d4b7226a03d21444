/* plot_module.c — the entry of libcqboot_plot.so (cqboot/plot_module.h). */
#include "cqboot/plot_module.h"

static const cqb_plot_module_table table = {
    /* .abi              = */ CQB_PLOT_MODULE_ABI,
    /* .size             = */ sizeof(cqb_plot_module_table),
    /* .fig_opts_default = */ cqb_fig_opts_default,
    /* .heatmap          = */ cqb_plot_heatmap,
    /* .series_band      = */ cqb_plot_series_band,
    /* .lines            = */ cqb_plot_lines,
    /* .timemap          = */ cqb_plot_timemap,
    /* .intervals        = */ cqb_plot_intervals,
};

/* The module is built with hidden visibility; this is its one export. */
__attribute__((visibility("default"))) const cqb_plot_module_table *cqb_plot_module(void)
{
    return &table;
}
