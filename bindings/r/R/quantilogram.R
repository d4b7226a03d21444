# Drop-in replacements for R quantilogram 3.1.1's functions: the same names,
# arguments and returned structures, computed by cqboot's `cq` (through
# cqboot_run, so the CLI's own options and numbers). Conventions as R's: the
# first column of DATA is the predicted series (at t), the second the lagged
# predictor (at t - k), the others controls at t - k; vecA holds their
# quantile levels; R's type-7 quantiles; sigLev the significance level.
#
# Where the results differ: point estimates (crossq, crossq.partial, the Q
# statistics) are equal to R's to ~1e-12; the bootstrap bands and critical
# values come from cqboot's Philox streams, not R's RNG, so they differ from
# R's by Monte Carlo noise (as two runs of R with different seeds do). The
# bootstrap seed is drawn from R's RNG, so set.seed() makes a call
# reproducible. The *.opt functions run (R's need the np package).

# DATA (T x l matrix or data.frame) -> data.frame y, x, z1, ...
.q_data <- function(DATA) {
  m <- as.matrix(DATA)
  if (!is.numeric(m) || ncol(m) < 2) stop("DATA must be a numeric matrix with at least two columns", call. = FALSE)
  d <- as.data.frame(matrix(as.double(m), nrow(m), ncol(m)))
  names(d) <- c("y", "x", if (ncol(m) > 2) paste0("z", seq_len(ncol(m) - 2)))
  d
}

# A seed for cqboot's streams from R's RNG (set.seed reproduces the call).
.r_seed <- function() sprintf("%.0f", floor(stats::runif(1) * 2^31))

.q_run <- function(DATA, vecA, lags, boot, gamma = NULL, sigLev = NULL, partial = FALSE, qtests = FALSE) {
  d <- .q_data(DATA)
  nc <- ncol(d)
  if (length(vecA) < nc) stop(sprintf("vecA must have %d quantile levels (one per column of DATA)", nc), call. = FALSE)
  control <- if (nc > 2) paste0(names(d)[3:nc], ":", .opt_text(vecA[3:nc])) else NULL
  # one lag k is "k-k" (the CLI reads a lone K as 1..K)
  lag_text <- if (length(lags) == 1) sprintf("%.0f-%.0f", lags, lags) else paste(.opt_text(lags), collapse = ",")
  opts <- list(y = "y", x = "x", control = control, alpha_y = vecA[1], alpha_x = vecA[2],
               lags = lag_text, quantile = "r7_le", boot = boot, gamma = gamma,
               level = if (!is.null(sigLev)) 1 - sigLev, no_qtests = !qtests, no_null = TRUE,
               seed = if (boot > 0) .r_seed(), quiet = TRUE)
  cqboot_run("cq", .cli_args(opts), d)
}

.col1 <- function(v) matrix(v, ncol = 1)

#' Drop-in replacements for R quantilogram
#'
#' The functions of R's quantilogram 3.1.1 with the same arguments and the
#' same returned structures, computed by cqboot: an existing script runs by
#' replacing `library(quantilogram)` with `library(cqboot)`.
#'
#' Point estimates (`crossq`, `crossq.partial`, `crossq.max`, the Q
#' statistics) equal R's to about 1e-12. Bootstrap bands and critical values
#' use cqboot's random streams, not R's, so they differ from R's by Monte
#' Carlo noise, as two R runs with different seeds do; the stream's seed is
#' drawn from R's RNG, so `set.seed()` makes a call reproducible. The `*.opt`
#' functions choose gamma by Politis-White (`np::b.star`, as R) and work
#' without the np package. Not provided: `crossqreg*`, `Qstat.reg.sb`,
#' `crossq.heatmap`, `crossq.plot` (use [cq()] with `y_regressors` /
#' `x_regressors`, and base graphics).
#'
#' @param DATA numeric matrix: the predicted series, the predictor, then
#'   controls (partial versions).
#' @param vecA quantile levels, one per column of DATA.
#' @param k lag.
#' @param Kmax,Psize largest lag.
#' @param gamma restart probability of the stationary bootstrap.
#' @param Bsize bootstrap replicates.
#' @param sigLev significance level.
#' @return As quantilogram's: `crossq` a number; `crossq.max` a Kmax x 1
#'   matrix; `crossq.partial` `list(CRQ, ParCRQ)`; `crossq.max.partial` the
#'   same with Kmax x 1 matrices; `crossq.sb` `list(vecCV, vCRQ)` with vecCV
#'   the 2 x 1 band; `crossq.partial.sb` `list(vecCV, vParCRQ)`; `Qstat.sb`
#'   `list(vecQ.BP, vecCV.BP, vecQ.LB, vecCV.LB)`, each Psize x 1.
#' @examples
#' set.seed(1)
#' D <- matrix(rnorm(600), 300, 2)
#' crossq(D, c(0.1, 0.5), 1)
#' crossq.sb(D, c(0.1, 0.5), 1, gamma = 0.1, Bsize = 200, sigLev = 0.05)
#' Qstat.sb(D, c(0.1, 0.5), 3, gamma = 0.1, Bsize = 200, sigLev = 0.05)
#' @name quantilogram-dropin
NULL

#' @rdname quantilogram-dropin
#' @export
crossq <- function(DATA, vecA, k) {
  .q_run(DATA[, 1:2, drop = FALSE], vecA, k, boot = 0)$rho
}

#' @rdname quantilogram-dropin
#' @export
crossq.max <- function(DATA, vecA, Kmax) {
  .col1(.q_run(DATA[, 1:2, drop = FALSE], vecA, seq_len(Kmax), boot = 0)$rho)
}

#' @rdname quantilogram-dropin
#' @export
crossq.partial <- function(DATA, vecA, k) {
  r <- .q_run(DATA, vecA, k, boot = 0)
  list(CRQ = r$rho, ParCRQ = r$rho_partial)
}

#' @rdname quantilogram-dropin
#' @export
crossq.max.partial <- function(DATA, vecA, Kmax) {
  r <- .q_run(DATA, vecA, seq_len(Kmax), boot = 0)
  list(CRQ = .col1(r$rho), ParCRQ = .col1(r$rho_partial))
}

#' @rdname quantilogram-dropin
#' @export
crossq.sb <- function(DATA, vecA, k, gamma, Bsize, sigLev) {
  r <- .q_run(DATA[, 1:2, drop = FALSE], vecA, k, boot = Bsize, gamma = gamma, sigLev = sigLev)
  list(vecCV = .col1(c(r$band_lo, r$band_hi)), vCRQ = r$rho)
}

#' @rdname quantilogram-dropin
#' @export
crossq.sb.opt <- function(DATA, vecA, k, Bsize, sigLev = 0.05) {
  crossq.sb(DATA, vecA, k, "auto", Bsize, sigLev)
}

#' @rdname quantilogram-dropin
#' @export
crossq.partial.sb <- function(DATA, vecA, k, gamma, Bsize, sigLev) {
  r <- .q_run(DATA, vecA, k, boot = Bsize, gamma = gamma, sigLev = sigLev)
  list(vecCV = .col1(c(r$band_lo, r$band_hi)), vParCRQ = r$rho_partial)
}

#' @rdname quantilogram-dropin
#' @export
crossq.partial.sb.opt <- function(DATA, vecA, k, Bsize, sigLev) {
  crossq.partial.sb(DATA, vecA, k, "auto", Bsize, sigLev)
}

#' @rdname quantilogram-dropin
#' @export
Qstat.sb <- function(DATA, vecA, Psize, gamma, Bsize, sigLev) {
  r <- .q_run(DATA[, 1:2, drop = FALSE], vecA, seq_len(Psize), boot = Bsize, gamma = gamma,
              sigLev = sigLev, qtests = TRUE)
  q <- .rows_frame(attr(r, "json")$qtests)
  q <- q[order(q$p), , drop = FALSE]
  list(vecQ.BP = .col1(q$q_bp), vecCV.BP = .col1(q$cv_bp), vecQ.LB = .col1(q$q_lb), vecCV.LB = .col1(q$cv_lb))
}

#' @rdname quantilogram-dropin
#' @export
Qstat.sb.opt <- function(DATA, vecA, Psize, Bsize, sigLev) {
  Qstat.sb(DATA, vecA, Psize, "auto", Bsize, sigLev)
}
