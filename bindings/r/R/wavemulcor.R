# Drop-in replacements for wavemulcor 3.1.2's wave.multiple.correlation and
# wave.local.multiple.correlation, computed by cqboot's `wmc` / `wlmc` in
# `compat` mode (wavemulcor's numbers, quirks included).
#
# wavemulcor takes waveslim MODWT objects; cqboot's commands take the series
# and do the MODWT (and waveslim's brick.wall) themselves. The drop-ins
# therefore recover each series from its MODWT object by the inverse MODWT
# (exact: the MODWT keeps all information). That needs the coefficients
# before brick.wall (which replaces boundary coefficients by NA); given
# brick-walled objects the drop-ins stop and say so: pass
# `modwt(x, wf, J)` rather than `brick.wall(modwt(x, wf, J), wf)`, the
# result is the same as wavemulcor's on the brick-walled input.

# Inverse MODWT (periodic) of a waveslim modwt object: J detail vectors d1..dJ
# and the smooth sJ. V_{j-1}(t) = sum_l h_l W_j(t + 2^{j-1} l) + g_l V_j(t + 2^{j-1} l)
# (mod N), with the filters scaled by 1/sqrt(2) (Percival & Walden 2000, 5.4).
.imodwt <- function(w) {
  wf <- attr(w, "wavelet")
  if (is.null(wf)) stop("xx: each element must be a waveslim modwt object (attribute 'wavelet')", call. = FALSE)
  J <- length(w) - 1L
  if (any(vapply(w, function(v) anyNA(v), TRUE))) {
    stop("xx: the MODWT coefficients contain NA (brick.wall?): cqboot recovers the series from the MODWT, ",
         "so pass modwt(x, wf, J) without brick.wall(); cqboot applies brick.wall itself, as wavemulcor's examples do",
         call. = FALSE)
  }
  f <- .Call(cqb_r_filters, wf)
  g <- f$scaling / sqrt(2)
  h <- f$wavelet / sqrt(2)
  N <- length(w[[1]])
  V <- as.double(w[[J + 1L]])
  for (j in J:1) {
    W <- as.double(w[[j]])
    out <- numeric(N)
    for (l in seq_along(g)) {
      idx <- ((seq_len(N) - 1L + 2^(j - 1) * (l - 1)) %% N) + 1L
      out <- out + h[l] * W[idx] + g[l] * V[idx]
    }
    V <- out
  }
  V
}

# xx (list of modwt objects) -> the series, the filter name, J, the boundary.
.wm_series <- function(xx) {
  if (!is.list(xx) || length(xx) < 2) stop("xx must be a list of at least two waveslim modwt objects", call. = FALSE)
  wf <- attr(xx[[1]], "wavelet")
  boundary <- attr(xx[[1]], "boundary")
  if (is.null(boundary)) boundary <- "periodic"
  J <- length(xx[[1]]) - 1L
  s <- lapply(xx, .imodwt)
  if (boundary == "reflection") s <- lapply(s, function(v) v[seq_len(length(v) / 2)])
  d <- as.data.frame(s)
  names(d) <- paste0("V", seq_along(xx))
  list(data = d, wavelet = wf, J = J, boundary = boundary, labels = names(xx))
}

.wm_window <- function(window) {
  # wavemulcor matches the first four letters, case-insensitively
  map <- c(unif = "uniform", clev = "cleveland", tric = "cleveland", epan = "epanechnikov",
           para = "epanechnikov", bart = "bartlett", tria = "bartlett", wend = "wendland", gaus = "gaussian")
  w <- map[substr(tolower(window), 1, 4)]
  if (is.na(w)) stop("wrong window type", call. = FALSE)
  unname(w)
}

.wm_run <- function(command, xx, p, ymaxr, ...) {
  s <- .wm_series(xx)
  if (!is.null(ymaxr)) ymaxr <- paste0("V", ymaxr)
  opts <- c(list(cols = names(s$data), wavelet = s$wavelet, levels = s$J, boundary = s$boundary,
                 mode = "compat", level = 2 * p - 1, ymaxr = ymaxr), list(...))
  list(res = cqboot_run(command, .cli_args(opts), s$data), J = s$J, n = nrow(s$data),
       boundary = s$boundary)
}

.ymaxr_index <- function(v) as.numeric(sub("^V", "", v))

#' Drop-in replacements for wavemulcor
#'
#' `wave.multiple.correlation` and `wave.local.multiple.correlation` of
#' wavemulcor 3.1.2, with the same arguments and returned structures, computed
#' by [wmc()] and [wlmc()] in `compat` mode (wavemulcor's numbers, ~1e-11).
#'
#' Difference in use: `xx` must hold the MODWT objects *before*
#' `brick.wall()` (e.g. `lapply(series, waveslim::modwt, "la8", 4)`); cqboot
#' recovers the series by the inverse MODWT and applies brick.wall itself,
#' which gives wavemulcor's result on brick-walled input. Brick-walled
#' coefficients (NA at the boundaries) cannot be inverted and are refused.
#' `N` other than its default is not supported (it stops). Only the windows
#' cqboot implements are accepted.
#'
#' @param xx list of waveslim `modwt` objects, one per series.
#' @param N sample size of the intervals (the default only).
#' @param M window size (local version).
#' @param window window function (`"gauss"`, `"uniform"`, `"cleveland"`,
#'   `"epanechnikov"`, `"bartlett"`, `"wendland"`).
#' @param p one minus the two-sided significance of the intervals (0.975 for 95 percent).
#' @param ymaxr index of the series fixed as dependent variable (NULL: the one
#'   maximising R^2).
#' @return As wavemulcor's: `wave.multiple.correlation` a list with
#'   `xy.mulcor` ((J+1) x 3 matrix, columns `wavemulcor`, `lower`, `upper`)
#'   and `YmaxR`; `wave.local.multiple.correlation` a list of data frames
#'   `val`, `lo`, `up`, `YmaxR` (N rows, columns d1..dJ, sJ).
#' @name wavemulcor-dropin
NULL

#' @rdname wavemulcor-dropin
#' @export
wave.multiple.correlation <- function(xx, N = length(xx[[1]][[1]]), p = 0.975, ymaxr = NULL) {
  if (N != length(xx[[1]][[1]])) stop("N other than length(xx[[1]][[1]]) is not supported by cqboot", call. = FALSE)
  r <- .wm_run("wmc", xx, p, ymaxr)$res
  m <- cbind(wavemulcor = r$value, lower = r$lo, upper = r$up)
  list(xy.mulcor = m, YmaxR = .ymaxr_index(r$ymaxr))
}

#' @rdname wavemulcor-dropin
#' @export
wave.local.multiple.correlation <- function(xx, M, window = "gauss", p = 0.975, ymaxr = NULL) {
  w <- .wm_run("wlmc", xx, p, ymaxr, window = .wm_window(window), M = M)
  r <- w$res
  levels <- unique(r$level)
  pick <- function(col, f = identity) {
    d <- as.data.frame(lapply(levels, function(l) f(r[[col]][r$level == l])))
    names(d) <- levels
    d
  }
  list(val = pick("value"), lo = pick("lo"), up = pick("up"),
       YmaxR = pick("ymaxr", function(v) as.integer(.ymaxr_index(v))))
}
