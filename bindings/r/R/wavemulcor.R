# Drop-in replacements for wavemulcor 3.1.2's wave.multiple.correlation,
# wave.local.multiple.correlation, wave.multiple.cross.correlation and
# wave.local.multiple.cross.correlation: the statistics of cqboot's `wmc`,
# `wlmc`, `wmcc` and `wlmcc`
# in `compat` mode (wavemulcor's numbers, quirks included), computed on the
# MODWT coefficients the caller passes, exactly as wavemulcor takes them:
# brick-walled (NA at the boundaries, as wavemulcor's examples do) or not.
# (The series cannot be recovered from the coefficients exactly: waveslim's
# tabulated filters are orthonormal to 2e-10 (la20) and 4e-13 (d8, la8,
# la16) only, so an inverse MODWT followed by cqboot's own MODWT moved the
# local correlations by up to 3e-9 for la20; the coefficients go to the
# library as they are instead.)

# xx (list of modwt objects) -> the checked list of coefficient vectors, the
# filter name, the level names.
.wm_levels <- function(xx) {
  if (!is.list(xx) || length(xx) < 2) stop("xx must be a list of at least two waveslim modwt objects", call. = FALSE)
  J1 <- length(xx[[1]])
  for (k in seq_along(xx)) {
    if (!is.list(xx[[k]]) || length(xx[[k]]) != J1 || J1 < 2) {
      stop("xx[[", k, "]]: a waveslim modwt object with the levels of xx[[1]] expected", call. = FALSE)
    }
  }
  lv <- lapply(xx, function(w) lapply(unclass(w), as.double))
  n <- length(lv[[1]][[1]])
  for (k in seq_along(lv)) for (i in seq_len(J1)) {
    if (length(lv[[k]][[i]]) != n) {
      stop("xx[[", k, "]][[", i, "]]: ", n, " coefficients expected (as xx[[1]][[1]])", call. = FALSE)
    }
  }
  # the rows every series has: wavemulcor's pairwise counts are the same
  # only when the series share their NA pattern (as brick.wall gives them)
  differ <- Filter(function(i) {
    na <- lapply(lv, function(w) is.na(w[[i]]))
    !all(vapply(na, identical, TRUE, na[[1]]))
  }, seq_len(J1))
  if (length(differ)) {
    warning("xx: the series have different NA patterns (level ", paste(differ, collapse = ", "),
            "); cqboot uses the rows where all are present", call. = FALSE)
  }
  nm <- names(xx[[1]])
  if (is.null(nm)) nm <- c(paste0("d", seq_len(J1 - 1L)), paste0("s", J1 - 1L))
  list(coef = lv, wavelet = attr(xx[[1]], "wavelet"), names = nm)
}

.wm_ymaxr <- function(ymaxr, d) {
  if (is.null(ymaxr)) return(0L)
  if (length(ymaxr) != 1 || is.na(ymaxr) || ymaxr < 1 || ymaxr > d || ymaxr != round(ymaxr)) {
    stop("ymaxr must be the index of one of the ", d, " series", call. = FALSE)
  }
  as.integer(ymaxr)
}

#' Drop-in replacements for wavemulcor
#'
#' `wave.multiple.correlation`, `wave.local.multiple.correlation`,
#' `wave.multiple.cross.correlation` and `wave.local.multiple.cross.correlation`
#' of wavemulcor 3.1.2, with the same arguments and returned structures,
#' computed by the statistics of [wmc()], [wlmc()], [wmcc()] and [wlmcc()] in
#' `compat` mode (wavemulcor's numbers, to rounding: 1e-12 and below).
#'
#' `xx` is what wavemulcor takes: a list of waveslim `modwt` objects, as a
#' rule brick-walled (`lapply(series, function(x) brick.wall(modwt(x, "la8",
#' 4), "la8"))`, as in wavemulcor's examples); the coefficients are used as
#' given, NA included. Rows where any series has an NA are left out at that
#' level; wavemulcor counts pairs instead, which is the same when the series
#' share their NA pattern (brick-walled MODWTs of one filter and length do;
#' otherwise a warning says so). The local version needs the filter (for
#' waveslim's `phase.shift`) to be one cqboot has: haar, d4, d6, d8, la8, la16,
#' la20. Only the windows cqboot implements are accepted.
#'
#' @param xx list of waveslim `modwt` objects, one per series.
#' @param N sample size of the intervals (default: the length of the
#'   coefficient vectors).
#' @param M window size (local version).
#' @param window window function (`"gauss"`, `"uniform"`, `"cleveland"`,
#'   `"epanechnikov"`, `"bartlett"`, `"wendland"`).
#' @param p one minus the two-sided significance of the intervals (0.975 for 95 percent).
#' @param ymaxr index of the series fixed as dependent variable (NULL: the one
#'   maximising R^2).
#' @param lag.max largest lag of the cross versions (NULL: trunc(sqrt(N)/2)).
#' @return As wavemulcor's: `wave.multiple.correlation` a list with
#'   `xy.mulcor` ((J+1) x 3 matrix, columns `wavemulcor`, `lower`, `upper`)
#'   and `YmaxR`; `wave.local.multiple.correlation` a list of data frames
#'   `val`, `lo`, `up`, `YmaxR` (N rows, columns d1..dJ, sJ);
#'   `wave.multiple.cross.correlation` a list with `xy.mulcor` ((J+1) x
#'   (2 lag.max + 1), lags -lag.max..lag.max), `ci.mulcor` (`lower`, `upper`,
#'   the same shape) and `YmaxR`; `wave.local.multiple.cross.correlation` a
#'   list of `val`, `lo`, `up` (per level an N x (2 lag.max + 1) data frame)
#'   and `YmaxR` (per level a vector of N).
#' @name wavemulcor-dropin
NULL

#' @rdname wavemulcor-dropin
#' @export
wave.multiple.correlation <- function(xx, N = length(xx[[1]][[1]]), p = 0.975, ymaxr = NULL) {
  w <- .wm_levels(xx)
  r <- .Call(cqb_r_wmc_levels, w$coef, 0L, "", as.double(p), .wm_ymaxr(ymaxr, length(xx)),
             as.double(N), "", 0, -1L)
  m <- cbind(wavemulcor = r$val, lower = r$lo, upper = r$up)
  list(xy.mulcor = m, YmaxR = as.numeric(r$dep))
}

#' @rdname wavemulcor-dropin
#' @export
wave.local.multiple.correlation <- function(xx, M, window = "gauss", p = 0.975, ymaxr = NULL) {
  w <- .wm_levels(xx)
  r <- .wm_local(w, 1L, M, window, p, ymaxr, -1L)
  n <- length(w$coef[[1]][[1]])
  pick <- function(v) {
    d <- as.data.frame(matrix(v, nrow = n))
    names(d) <- w$names
    d
  }
  list(val = pick(r$val), lo = pick(r$lo), up = pick(r$up), YmaxR = pick(r$dep))
}

#' @rdname wavemulcor-dropin
#' @export
wave.multiple.cross.correlation <- function(xx, lag.max = NULL, p = 0.975, ymaxr = NULL) {
  w <- .wm_levels(xx)
  r <- .Call(cqb_r_wmc_levels, w$coef, 2L, "", as.double(p), .wm_ymaxr(ymaxr, length(xx)), 0, "", 0,
             .wm_lagmax(lag.max))
  by_level <- function(v) matrix(v, nrow = length(w$names), byrow = TRUE)
  list(xy.mulcor = by_level(r$val), ci.mulcor = list(lower = by_level(r$lo), upper = by_level(r$up)),
       YmaxR = as.numeric(r$dep))
}

#' @rdname wavemulcor-dropin
#' @export
wave.local.multiple.cross.correlation <- function(xx, M, window = "gauss", lag.max = NULL, p = 0.975,
                                                  ymaxr = NULL) {
  w <- .wm_levels(xx)
  r <- .wm_local(w, 3L, M, window, p, ymaxr, .wm_lagmax(lag.max))
  n <- length(w$coef[[1]][[1]])
  K <- 2L * r$lags + 1L
  # per level an n x K data frame (columns V1..VK: lags -lm..lm)
  per_level <- function(v) {
    out <- lapply(seq_along(w$names) - 1L, function(i) {
      as.data.frame(matrix(v[i * n * K + seq_len(n * K)], nrow = n, byrow = TRUE))
    })
    names(out) <- w$names
    out
  }
  dep <- lapply(seq_along(w$names) - 1L, function(i) r$dep[i * n + seq_len(n)])
  names(dep) <- w$names
  list(val = per_level(r$val), lo = per_level(r$lo), up = per_level(r$up), YmaxR = dep)
}

# The local statistics (stat 1: WLMC, 3: WLMCC); the library checks the
# filter (needed for phase.shift) and the window name as wavemulcor matches
# it (first four letters).
.wm_local <- function(w, stat, M, window, p, ymaxr, lag_max) {
  .Call(cqb_r_wmc_levels, w$coef, stat, w$wavelet, as.double(p), .wm_ymaxr(ymaxr, length(w$coef)), 0, window,
        as.double(M), lag_max)
}

.wm_lagmax <- function(lag.max) {
  if (is.null(lag.max)) return(-1L)
  if (length(lag.max) != 1 || is.na(lag.max) || lag.max < 0) stop("lag.max must be a number >= 0", call. = FALSE)
  as.integer(lag.max)
}
