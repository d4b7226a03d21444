# Drop-in replacements for wavemulcor 3.1.2's wave.multiple.correlation and
# wave.local.multiple.correlation: the statistics of cqboot's `wmc` / `wlmc`
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

.wm_window <- function(window) {
  # wavemulcor matches the first four letters, case-insensitively
  if (!is.character(window) || length(window) != 1 || nchar(window) < 4 ||
      !(substr(tolower(window), 1, 4) %in% c("unif", "clev", "tric", "epan", "para", "bart", "tria", "wend", "gaus"))) {
    stop("wrong window type", call. = FALSE)
  }
  window
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
#' `wave.multiple.correlation` and `wave.local.multiple.correlation` of
#' wavemulcor 3.1.2, with the same arguments and returned structures, computed
#' by the statistics of [wmc()] and [wlmc()] in `compat` mode (wavemulcor's
#' numbers, to rounding: 1e-12 and below).
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
#' @return As wavemulcor's: `wave.multiple.correlation` a list with
#'   `xy.mulcor` ((J+1) x 3 matrix, columns `wavemulcor`, `lower`, `upper`)
#'   and `YmaxR`; `wave.local.multiple.correlation` a list of data frames
#'   `val`, `lo`, `up`, `YmaxR` (N rows, columns d1..dJ, sJ).
#' @name wavemulcor-dropin
NULL

#' @rdname wavemulcor-dropin
#' @export
wave.multiple.correlation <- function(xx, N = length(xx[[1]][[1]]), p = 0.975, ymaxr = NULL) {
  w <- .wm_levels(xx)
  r <- .Call(cqb_r_wmc_levels, w$coef, FALSE, "", as.double(p), .wm_ymaxr(ymaxr, length(xx)),
             as.double(N), "", 0)
  m <- cbind(wavemulcor = r$val, lower = r$lo, upper = r$up)
  list(xy.mulcor = m, YmaxR = as.numeric(r$dep))
}

#' @rdname wavemulcor-dropin
#' @export
wave.local.multiple.correlation <- function(xx, M, window = "gauss", p = 0.975, ymaxr = NULL) {
  w <- .wm_levels(xx)
  if (is.null(w$wavelet)) stop("xx: the modwt objects name no wavelet filter (attribute 'wavelet')", call. = FALSE)
  r <- .Call(cqb_r_wmc_levels, w$coef, TRUE, w$wavelet, as.double(p), .wm_ymaxr(ymaxr, length(xx)),
             0, .wm_window(window), as.double(M))
  n <- length(w$coef[[1]][[1]])
  pick <- function(v) {
    d <- as.data.frame(matrix(v, nrow = n))
    names(d) <- w$names
    d
  }
  list(val = pick(r$val), lo = pick(r$lo), up = pick(r$up), YmaxR = pick(r$dep))
}
