# The analyses of the CLI as R functions. Each builds the CLI's options from
# its arguments (names as the CLI's, `_` or `.` for `-`) and calls
# cqboot_run(); options, checks and results are the CLI's.

# y/x given as series rather than column names: put them in a data set.
.series_data <- function(data, ...) {
  s <- list(...)
  is_series <- vapply(s, function(v) !is.null(v) && (is.numeric(v) || stats::is.ts(v)) && length(v) > 1, TRUE)
  if (!any(is_series)) return(list(data = data, names = s))
  if (!is.null(data)) stop("give the series either as columns of `data` (by name) or as vectors, not both", call. = FALSE)
  d <- as.data.frame(lapply(s[is_series], as.double))
  names(d) <- names(s)[is_series]
  labels <- NULL
  first <- s[is_series][[1]]
  if (stats::is.ts(first)) labels <- .ts_labels(first)
  if (!is.null(labels)) rownames(d) <- labels
  nm <- s
  nm[is_series] <- names(s)[is_series]
  list(data = d, names = nm)
}

#' Cross-quantilogram and partial cross-quantilogram with bootstrap inference
#'
#' `cqboot cq` in process: the sample CQ (and partial CQ given controls) of
#' `y_t` on `x_{t-k}` over a grid of quantile levels and lags, stationary
#' bootstrap bands, p-values, the calibrated test `p_null`, Q tests, and
#' optionally grid-wide tests, rolling windows and conditional quantiles.
#' Every CLI option of `cqboot cq` (docs/cli.md) is an argument: the ones
#' below by name, the others through `...` (e.g. `gamma_floor1 = TRUE`,
#' `independent_cells = TRUE`, `window_years = 10`, `y_regressors = "A:1"`).
#'
#' @param data a data.frame (a Date column gives the dates; numeric columns are
#'   the series), matrix, `ts`, or NULL when `y` and `x` are vectors.
#' @param y,x column names (the predicted series at t, the predictor at t - k),
#'   or numeric vectors / `ts`.
#' @param control controls of the partial CQ: column names, `"COL:LEVEL[:LAG]"`
#'   strings, or a named numeric vector `c(COL = level)`.
#' @param transform `c(COL = "logdiff")` (also `"diff"`, `"pct"`, `"level"`).
#' @param alpha,alpha_y,alpha_x quantile levels (both series, or each).
#' @param lags lags: a vector (`1:12`, `c(1, 3, 6)`) or the CLI's text (`"1-12"`,
#'   `"1,3,6-12"`); as in the CLI a single number K means lags 1..K.
#' @param boot bootstrap replicates (0: sample statistics only).
#' @param gamma restart probability of the stationary bootstrap, or `"auto"`.
#' @param level confidence level of bands and Q critical values.
#' @param seed 64-bit seed (a number, or a string for values above 2^53).
#' @param threads CPU threads (default all cores).
#' @param from,to date range of the rows analysed.
#' @param ... further options of `cqboot cq`.
#' @param progress FALSE, TRUE (a text bar) or a function of the fraction done.
#' @return A data.frame with one row per (alpha_y, alpha_x, lag) as the CLI's
#'   `--csv`: `rho`, `rho_partial`, `band_lo`, `band_hi`, `ci_lo`, `ci_hi`,
#'   `p_value`, `p_value_et`, `p_null`, ... Attributes: `json` (the CLI's whole
#'   JSON: `qtests`, `supq`, `rolling`, ...), `options`, `seed`, `versions`.
#' @examples
#' d <- read.csv(system.file("extdata", "us_china_monthly.csv", package = "cqboot"))
#' r <- cq(d, y = "GPRC_CHN", x = "IPB52300S",
#'         transform = c(GPRC_CHN = "logdiff", IPB52300S = "logdiff", GPR = "logdiff"),
#'         control = c(WGI_CHN_GE = 0.5, GPR = 0.5),
#'         alpha = c(0.05, 0.5, 0.95), lags = 1:3, boot = 500, seed = 2025, threads = 1)
#' head(r)
#' attr(r, "json")$qtests[[1]]
#' @export
cq <- function(data = NULL, y, x, control = NULL, transform = NULL, alpha = NULL, alpha_y = NULL,
               alpha_x = NULL, lags = NULL, boot = NULL, gamma = NULL, level = NULL, seed = NULL,
               threads = NULL, from = NULL, to = NULL, ..., progress = FALSE) {
  sd <- .series_data(data, y = y, x = x)
  opts <- c(list(y = sd$names$y, x = sd$names$x, control = .control_args(control),
                 transform = .transform_args(transform), alpha = alpha, alpha_y = alpha_y,
                 alpha_x = alpha_x, lags = lags, boot = boot, gamma = gamma, level = level,
                 seed = seed, threads = threads, from = from, to = to), list(...))
  cqboot_run("cq", .cli_args(opts), sd$data, progress)
}

#' Politis-White block lengths
#'
#' `cqboot blocklen`: per column, the stationary- and circular-bootstrap block
#' lengths of `np::b.star(round = FALSE)` and the implied restart probability.
#' @param data data set (see [cq()]).
#' @param cols columns (character vector).
#' @param lag pair the first column at t with the others at t - lag.
#' @param floor1 floor each b at 1 before averaging.
#' @param transform,from,to as in [cq()].
#' @param ... further options of `cqboot blocklen`.
#' @return A data.frame with `column`, `n`, `b_sb`, `b_cb`; attribute `gamma`.
#' @examples
#' d <- read.csv(system.file("extdata", "us_china_monthly.csv", package = "cqboot"))
#' blocklen(d, c("GPRC_CHN", "IPB52300S"), lag = 1,
#'          transform = c(GPRC_CHN = "logdiff", IPB52300S = "logdiff"))
#' @export
blocklen <- function(data, cols, lag = NULL, floor1 = FALSE, transform = NULL, from = NULL, to = NULL, ...) {
  opts <- c(list(cols = cols, lag = lag, floor1 = floor1, transform = .transform_args(transform),
                 from = from, to = to), list(...))
  r <- cqboot_run("blocklen", .cli_args(opts), data)
  json <- attr(r, "json")
  out <- .rows_frame(json$results)
  for (a in c("json", "options", "seed", "versions", "cli_args")) attr(out, a) <- attr(r, a)
  attr(out, "gamma") <- json$gamma
  out
}

# A JSON array of flat objects -> data.frame.
.rows_frame <- function(rows) {
  if (length(rows) == 0) return(data.frame())
  keys <- unique(unlist(lapply(rows, names)))
  cols <- lapply(keys, function(k) {
    v <- lapply(rows, function(r) if (is.null(r[[k]])) NA else r[[k]])
    unlist(v)
  })
  names(cols) <- keys
  as.data.frame(cols, stringsAsFactors = FALSE, optional = TRUE)
}

.wavelet_call <- function(command, data, cols, transform, ..., progress = FALSE) {
  opts <- c(list(cols = cols, transform = .transform_args(transform)), list(...))
  cqboot_run(command, .cli_args(opts), data, progress)
}

#' MODWT and wavelet (local) multiple (cross-)correlations
#'
#' `cqboot modwt`, `wmc`, `wmcc`, `wlmc`, `wlmcc` in process: the MODWT of a
#' series (waveslim 1.8.4), and Fernandez-Macho's wavelet multiple correlation
#' (WMC), cross-correlation (WMCC), local multiple correlation (WLMC) and local
#' cross-correlation (WLMCC), in wavemulcor 3.1.2's `compat` mode or the
#' `corrected` one, with optional resampling nulls. Options as the CLI's:
#' `wavelet`, `levels`, `boundary`, `mode`, `level`, `ymaxr`, `lag_max`,
#' `window`, `M`, `boot`, `null`, `gamma`, `seed`, `threads`, `from`, `to`.
#'
#' @param data data set (see [cq()]).
#' @param cols the series (character vector; `modwt` takes one). A call in
#'   waveslim's form, `modwt(x, "la8", 4)`, is passed to `waveslim::modwt`
#'   (which this function masks when cqboot is attached after waveslim).
#' @param transform as in [cq()].
#' @param ... options of the CLI command (docs/cli.md).
#' @param progress as in [cq()].
#' @return A data.frame as the CLI's `--csv` (one row per level, and per date
#'   and lag for the local and lagged statistics) with the JSON on attributes.
#' @examples
#' d <- read.csv(system.file("extdata", "us_china_monthly.csv", package = "cqboot"))
#' tr <- c(IPB52300S = "logdiff", GPRC_CHN = "logdiff", GPR = "logdiff")
#' wmc(d, c("IPB52300S", "GPRC_CHN", "GPR"), transform = tr, wavelet = "la8", levels = 4)
#' w <- wlmc(d, c("IPB52300S", "GPRC_CHN", "GPR"), transform = tr, M = 24)
#' head(w)
#' @name wavelets
NULL

#' @rdname wavelets
#' @export
modwt <- function(data, cols, transform = NULL, ..., progress = FALSE) {
  # A waveslim-style call, modwt(x, "la8", 4), from a script that attached
  # waveslim before cqboot: this function masks waveslim's, so hand it on.
  if (is.numeric(data) && is.null(dim(data)) && !missing(cols) && is.character(cols) && length(cols) == 1 &&
      tolower(cols) %in% c("haar", "d4", "d6", "d8", "d16", "la8", "la16", "la20", "bl14", "bl18", "bl20",
                           "c6", "c12", "c18", "c24", "c30", "mb4", "mb8", "mb16", "mb24", "fk4", "fk6", "fk8",
                           "fk14", "fk22")) {
    if (!requireNamespace("waveslim", quietly = TRUE)) {
      stop("modwt(x, wf, ...) is waveslim's call; cqboot's is modwt(data, col, wavelet =, levels =)", call. = FALSE)
    }
    return(waveslim::modwt(data, cols, transform, ...))
  }
  .wavelet_call("modwt", data, cols, transform, ..., progress = progress)
}

#' @rdname wavelets
#' @export
wmc <- function(data, cols, transform = NULL, ..., progress = FALSE)
  .wavelet_call("wmc", data, cols, transform, ..., progress = progress)

#' @rdname wavelets
#' @export
wmcc <- function(data, cols, transform = NULL, ..., progress = FALSE)
  .wavelet_call("wmcc", data, cols, transform, ..., progress = progress)

#' @rdname wavelets
#' @export
wlmc <- function(data, cols, transform = NULL, ..., progress = FALSE)
  .wavelet_call("wlmc", data, cols, transform, ..., progress = progress)

#' @rdname wavelets
#' @export
wlmcc <- function(data, cols, transform = NULL, ..., progress = FALSE)
  .wavelet_call("wlmcc", data, cols, transform, ..., progress = progress)

#' Monte Carlo size and power of the tests
#'
#' `cqboot simulate`: draws `nsim` replications of a data-generating process
#' (`"null"`, `"tail"`, `"var"`) and runs the bootstrap analysis on each. When
#' `object` is not a process name (a fitted model), this is
#' [stats::simulate()], which the function would otherwise mask.
#' @param object the process: `"null"`, `"tail"` or `"var"`.
#' @param nsim replications (the CLI's `--reps`).
#' @param seed 64-bit seed.
#' @param ... options of `cqboot simulate` (`T`, `boot`, `alpha`, `lags`,
#'   `strength`, `threads`, ...).
#' @param progress as in [cq()].
#' @return A data.frame of rejection rates (one row per test, cell and lag).
#' @examples
#' simulate("null", nsim = 4, T = 120, boot = 50, alpha = c(0.1, 0.5), lags = 2, threads = 1)
#' @export
simulate <- function(object = "null", nsim = NULL, seed = NULL, ..., progress = FALSE) {
  if (!is.character(object)) {
    return(stats::simulate(object, nsim = if (is.null(nsim)) 1 else nsim, seed = seed, ...))
  }
  opts <- c(list(dgp = object, reps = nsim, seed = seed), list(...))
  cqboot_run("simulate", .cli_args(opts), NULL, progress)
}

#' Run a study file
#'
#' `cqboot run STUDY.json`: every analysis of the study, its results, CSVs and
#' report, written to `out` (a new temporary folder by default). Figures need
#' the CLI's figure module (cairo), which the R package does not build: by
#' default they are drawn only when the environment variable `CQB_PLOT_MODULE`
#' names that module (`libcqboot_plot.so` of a CLI build); otherwise the study
#' runs with `--no-figures` (tables, `report.md` and `index.html` only).
#' @param path the study JSON file.
#' @param out output folder.
#' @param ... options of `cqboot run` (`resume`, `threads`, `backend`).
#' @param figures draw the figures (needs `CQB_PLOT_MODULE`).
#' @param progress as in [cq()].
#' @return A named list with one data.frame per analysis (its CSV), with the
#'   study's `results.json` as attribute `json` and the folder as `out`.
#' @examples
#' \donttest{
#' s <- run_study(system.file("extdata", "study-ree.json", package = "cqboot"))
#' names(s)
#' }
#' @export
run_study <- function(path, out = tempfile("cqboot-study-"), ...,
                      figures = nzchar(Sys.getenv("CQB_PLOT_MODULE")), progress = FALSE) {
  opts <- c(list(out = out), list(...))
  if (!isTRUE(figures)) opts$no_figures <- TRUE
  args <- c(path, .cli_args(opts))
  r <- cqboot_run("run", args, NULL, progress)
  res_file <- file.path(out, "results.json")
  json <- if (file.exists(res_file)) .Call(cqb_r_parse_json, paste(readLines(res_file, warn = FALSE), collapse = "\n")) else attr(r, "json")
  csvs <- list.files(out, pattern = "\\.csv$", full.names = TRUE)
  res <- lapply(csvs, read_cqboot_csv)
  names(res) <- sub("\\.csv$", "", basename(csvs))
  attr(res, "json") <- json
  attr(res, "out") <- out
  res
}
