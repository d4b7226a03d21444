# Timing of the R package: binding overhead against the CLI, and the seed
# study's partial CQ against R quantilogram 3.1.1 for the same work.
# Usage (from the repository root, after R CMD INSTALL and a CLI build):
#   R_LIBS=LIB:~/.cache/cqboot-peers/rlib Rscript bindings/r/bench/bench_r.R build/cqboot
# Prints median wall times; quantilogram's full-grid time is extrapolated
# from one (quantile pair, lag) cell, which is how it scales (one call per
# cell, linear in B), and labelled so.
args <- commandArgs(TRUE)
cli <- if (length(args)) args[1] else "build/cqboot"
suppressMessages(library(cqboot))
csv <- "data/us_china_monthly.csv"
d <- read_cqboot_csv(csv)
# wall time with Sys.time (microseconds; proc.time ticks in 10 ms here)
wall <- function(f) { t0 <- Sys.time(); f(); as.numeric(Sys.time() - t0, units = "secs") }
med <- function(n, f) median(vapply(seq_len(n), function(i) wall(f), 0))
# R and the CLI alternately (the machine's load drifts), medians of each
pair <- function(n, fr, fc) {
  t <- vapply(seq_len(n), function(i) c(wall(fr), wall(fc)), c(0, 0))
  c(median(t[1, ]), median(t[2, ]))
}

cat(sprintf("machine: %d cores, load average %s\n", parallel::detectCores(),
            paste(readLines("/proc/loadavg"), collapse = "")))

# 1. Overhead: a small call (one cell, one lag, no bootstrap)
small_r <- function() cq(d, y = "GPRC_CHN", x = "IPB52300S", alpha = 0.5, lags = 1, boot = 0, threads = 1)
small_cli <- function() system2(cli, c("cq", "--data", csv, "--y", "GPRC_CHN", "--x", "IPB52300S", "--alpha", "0.5",
                                      "--lags", "1", "--boot", "0", "--threads", "1", "--quiet", "--csv", "/dev/null"),
                               stdout = FALSE, stderr = FALSE)
invisible(small_r()); invisible(small_cli())
tt <- pair(30, small_r, small_cli); tr <- tt[1]; tc <- tt[2]
cat(sprintf("small cq call (alpha 0.5, lag 1, B = 0): R %.1f ms, CLI (process) %.1f ms\n", 1000 * tr, 1000 * tc))

# 2. The seed study's PCQ (data/study-ree.json, pcq_gprc_ipb): 25 cells x 12 lags, B = 10000
tf <- c(GPRC_CHN = "logdiff", IPB52300S = "logdiff", GPR = "logdiff")
alpha <- c(0.05, 0.1, 0.5, 0.9, 0.95)
study_r <- function() cq(d, y = "GPRC_CHN", x = "IPB52300S", transform = tf, control = c(WGI_CHN_GE = 0.5, GPR = 0.5),
                         alpha = alpha, lags = 1:12, boot = 10000, seed = 2025, gridwide = TRUE, threads = 2,
                         from = "1996-01", to = "2023-12")
study_cli <- function() system2(cli, c("cq", "--data", csv, "--y", "GPRC_CHN", "--x", "IPB52300S",
                                      "--transform", "GPRC_CHN=logdiff", "--transform", "IPB52300S=logdiff",
                                      "--transform", "GPR=logdiff", "--control", "WGI_CHN_GE:0.5", "--control", "GPR:0.5",
                                      "--alpha", "0.05,0.1,0.5,0.9,0.95", "--lags", "1-12", "--boot", "10000",
                                      "--seed", "2025", "--gridwide", "--threads", "2", "--from", "1996-01",
                                      "--to", "2023-12", "--quiet", "--csv", "/dev/null"), stdout = FALSE, stderr = FALSE)
r <- study_r()
tt <- pair(5, study_r, study_cli); ts_r <- tt[1]; ts_c <- tt[2]
cat(sprintf("seed-study PCQ (25 cells x 12 lags, B = 10000, grid-wide): R %.3f s, CLI %.3f s (medians of 5, alternating)\n", ts_r, ts_c))

# 3. R quantilogram for the same work, one cell: crossq.partial.sb at (0.05, 0.05), lag 1,
#    with the gamma cqboot's automatic rule chose for that lag (R's .opt needs np).
if (suppressWarnings(requireNamespace("quantilogram", quietly = TRUE))) {
  ld <- function(v) diff(log(v))
  raw <- read.csv(csv)
  D <- cbind(ld(raw$GPRC_CHN), ld(raw$IPB52300S), raw$WGI_CHN_GE[-1], ld(raw$GPR))
  g1 <- r$gamma[r$lag == 1][1]
  B <- 1000
  set.seed(1)
  tq <- wall(function() quantilogram::crossq.partial.sb(D, c(0.05, 0.05, 0.5, 0.5), 1, g1, B, 0.05))
  tdrop <- med(3, function() cqboot::crossq.partial.sb(D, c(0.05, 0.05, 0.5, 0.5), 1, g1, B, 0.05))
  cat(sprintf("one cell, one lag, B = %d: quantilogram::crossq.partial.sb %.2f s, cqboot::crossq.partial.sb %.1f ms (x%.0f)\n",
              B, tq, 1000 * tdrop, tq / tdrop))
  est <- tq * 25 * 12 * (10000 / B)
  cat(sprintf("seed-study PCQ with quantilogram: about %.0f s (%.1f h), extrapolated from the one cell (300 calls, B = 10000), against %.2f s from R with cqboot\n",
              est, est / 3600, ts_r))
} else {
  cat("quantilogram not installed (bench/peers.sh): no comparison\n")
}
