# Random differential check of the R drop-ins against the installed peers
# (quantilogram 3.1.1, wavemulcor 3.1.2 on waveslim) on the bundled real
# monthly data: random sub-samples, 2-4 series (log differences), quantile
# levels 0.01-0.99 (tail levels on short samples included), lags, 0-2
# controls, ties (rounded data), every wavelet filter, window, ymaxr and
# lag.max. Prints, per function, the cases compared and the largest absolute
# difference (relative for the Q statistics), the cases where one side stops
# with an error (wavemulcor's own crashes are counted apart), and every case
# above the tolerance. Not run by CI (minutes); skips, saying so, without
# the peers (bench/peers.sh installs them).
#   R_LIBS=LIB_WITH_CQBOOT:~/.cache/cqboot-peers/rlib Rscript scripts/peer_sweep.R [SEED] [CASES]
args <- commandArgs(TRUE)
seed <- if (length(args) >= 1) as.integer(args[1]) else 1L
ncase <- if (length(args) >= 2) as.integer(args[2]) else 100L
need <- c("cqboot", "quantilogram", "wavemulcor", "waveslim")
missing <- need[!vapply(need, function(p) suppressWarnings(requireNamespace(p, quietly = TRUE)), TRUE)]
if (length(missing)) {
  cat("peer_sweep: skipped: not installed:", paste(missing, collapse = ", "), "(bench/peers.sh)\n")
  quit(status = 0)
}
# 1e-12, and 1e-10 for the local statistics: a window near a brick-walled
# boundary can hold as few valid points as there are series, and its local
# correlation matrix then has condition numbers of 1e6-1e7, which scale the
# rounding of two correct implementations (seen: 6e-12 at kappa 8.9e6).
tol_global <- 1e-12
tol_local <- 1e-10
set.seed(seed)
d <- read.csv(system.file("extdata", "us_china_monthly.csv", package = "cqboot"))
ld <- function(v) diff(log(v))
cols <- c("IPB52300S", "ADEFNO", "ADAPNO", "GPRC_CHN", "GPRC_USA", "GPR", "GPRT", "GPRA", "EPU_US")
S <- sapply(cols, function(c) ld(d[[c]]))
S <- S[complete.cases(S), ]
ours <- asNamespace("cqboot")
# wavemulcor calls browser() on some degenerate windows; under Rscript that
# reads end-of-file and ends R silently. Its functions are run from copies
# whose enclosure turns browser() into an error (counted as the peer's).
shield <- function(pkg) {
  ns <- asNamespace(pkg)
  e <- new.env(parent = ns)
  assign("browser", function(...) stop("the peer called browser()", call. = FALSE), envir = e)
  for (nm in ls(ns, all.names = TRUE)) {
    f <- get(nm, envir = ns)
    if (is.function(f) && !is.primitive(f)) {
      environment(f) <- e
      assign(nm, f, envir = e)
    }
  }
  as.list(e)
}
peer <- suppressWarnings(c(shield("quantilogram"), shield("wavemulcor")))
stats <- list()
tally <- function(fn, field, v = 1) {
  s <- stats[[fn]]
  if (is.null(s)) s <- list(n = 0, worst = 0, ours_err = 0, peer_err = 0, over = 0)
  s[[field]] <- if (field == "worst") max(s$worst, v) else s[[field]] + v
  stats[[fn]] <<- s
}
quiet <- function(expr) {
  r <- NULL
  invisible(utils::capture.output(r <- tryCatch(expr, error = function(e) structure(conditionMessage(e), class = "err"))))
  r
}
compare <- function(fn, tag, a, b, relative = FALSE) {
  tol <- if (grepl("local", fn)) tol_local else tol_global
  if (inherits(b, "err")) return(tally(fn, "peer_err"))
  if (inherits(a, "err")) {
    tally(fn, "ours_err")
    cat(sprintf("ours stops, the peer does not: %s %s: %s\n", fn, tag, a))
    return(invisible())
  }
  ua <- unlist(a)
  ub <- unlist(b)
  if (length(ua) != length(ub) || any(is.na(ua) != is.na(ub))) {
    tally(fn, "over")
    cat(sprintf("shape or NA pattern differs: %s %s (%d and %d numbers, %d and %d NA)\n", fn, tag, length(ua),
                length(ub), sum(is.na(ua)), sum(is.na(ub))))
    dump_case(fn, tag, a, b)
    return(invisible())
  }
  a <- ua
  b <- ub
  ok <- !is.na(a)
  dif <- abs(a[ok] - b[ok])
  if (relative) dif <- dif / pmax(abs(b[ok]), 1)
  m <- if (any(ok)) max(dif) else 0
  tally(fn, "n")
  tally(fn, "worst", m)
  if (!is.finite(m) || m > tol) {
    tally(fn, "over")
    cat(sprintf("above %g: %s %s: %.3g\n", tol, fn, tag, m))
    dump_case(fn, tag, a, b)
  }
}
# PEER_SWEEP_DUMP=DIR keeps both results of every case above the tolerance
# (saveRDS, list(ours, peer, case)) for a closer look
dump_dir <- Sys.getenv("PEER_SWEEP_DUMP")
ndump <- 0
dump_case <- function(fn, tag, a, b) {
  if (!nzchar(dump_dir)) return(invisible())
  ndump <<- ndump + 1
  saveRDS(list(ours = a, peer = b, case = paste(fn, tag)), file.path(dump_dir, sprintf("case%03d.rds", ndump)))
}
filters <- c(haar = 2, d4 = 4, d6 = 6, d8 = 8, la8 = 8, la16 = 16, la20 = 20)
windows <- c("gauss", "uniform", "cleveland", "epanechnikov", "bartlett", "wendland")
for (i in seq_len(ncase)) {
  T <- sample(40:nrow(S), 1)
  st <- sample(0:(nrow(S) - T), 1)
  nv <- sample(2:4, 1)
  cc <- sample(ncol(S), nv)
  X <- S[st + seq_len(T), cc, drop = FALSE]
  if (runif(1) < 0.2) X <- round(X, 3) # ties
  qs <- sample(c(0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, round(runif(1, 0.02, 0.98), 3)), nv, TRUE)
  k <- sample(1:min(24, T %/% 3), 1)
  tag <- sprintf("[case %d: rows %d..%d, columns %s, levels %s, k %d]", i, st + 1, st + T,
                 paste(colnames(X), collapse = ","), paste(qs, collapse = ","), k)
  compare("crossq", tag, ours$crossq(X[, 1:2], qs[1:2], k), quiet(peer$crossq(X[, 1:2], qs[1:2], k)))
  compare("crossq.max", tag, quiet(ours$crossq.max(X[, 1:2], qs[1:2], k)), quiet(peer$crossq.max(X[, 1:2], qs[1:2], k)))
  if (nv >= 3) {
    compare("crossq.partial", tag, quiet(ours$crossq.partial(X, qs, k)), quiet(peer$crossq.partial(X, qs, k)))
  }
  rs <- .Random.seed # Qstat.sb draws (its bands are not compared)
  set.seed(1)
  a <- quiet(ours$Qstat.sb(X[, 1:2], qs[1:2], k, 0.1, 3, 0.05))
  set.seed(1)
  b <- quiet(peer$Qstat.sb(X[, 1:2], qs[1:2], k, 0.1, 3, 0.05))
  assign(".Random.seed", rs, envir = globalenv())
  pick <- function(r) if (inherits(r, "err")) r else list(r$vecQ.BP, r$vecQ.LB)
  compare("Qstat.sb (Q, relative)", tag, pick(a), pick(b), relative = TRUE)
  # wavelets, on brick-walled MODWTs as wavemulcor's examples make them
  wf <- sample(names(filters), 1)
  Jmax <- floor(log2((T - 1) / (filters[[wf]] - 1) + 1))
  if (Jmax < 2) next
  J <- sample(1:min(Jmax - 1, 6), 1)
  xx <- lapply(seq_len(nv), function(j) waveslim::brick.wall(waveslim::modwt(X[, j], wf, J), wf))
  ym <- if (runif(1) < 0.3) sample(nv, 1) else NULL
  M <- min(sample(c(5, 10, 24, 30, 61), 1), T) # cqboot refuses M > n, which wavemulcor takes
  win <- sample(windows, 1)
  lm <- sample(1:5, 1)
  wtag <- sprintf("%s [%s J %d, ymaxr %s, M %g %s, lag.max %d]", tag, wf, J, format(ym), M, win, lm)
  drop2 <- function(r) { # two series: both R^2 are equal and R picks YmaxR by rounding
    if (!inherits(r, "err") && nv == 2) r$YmaxR <- NULL
    r
  }
  # the cross-correlations' lag direction follows the dependent variable,
  # which for two series only R's rounding picks: fix it there
  ymc <- if (nv == 2 && is.null(ym)) 1L else ym
  compare("wave.multiple.correlation", wtag, drop2(quiet(ours$wave.multiple.correlation(xx, ymaxr = ym))),
          drop2(quiet(peer$wave.multiple.correlation(xx, ymaxr = ym))))
  compare("wave.multiple.cross.correlation", wtag,
          quiet(ours$wave.multiple.cross.correlation(xx, lag.max = lm, ymaxr = ymc)),
          quiet(peer$wave.multiple.cross.correlation(xx, lag.max = lm, ymaxr = ymc)))
  if (wf == "haar") next # waveslim's phase.shift breaks on haar (the peer's local functions stop)
  compare("wave.local.multiple.correlation", wtag,
          drop2(quiet(ours$wave.local.multiple.correlation(xx, M = M, window = win, ymaxr = ym))),
          drop2(quiet(peer$wave.local.multiple.correlation(xx, M = M, window = win, ymaxr = ym))))
  if (runif(1) < 0.3) { # the peer's local cross-correlation takes seconds
    compare("wave.local.multiple.cross.correlation", wtag,
            quiet(ours$wave.local.multiple.cross.correlation(xx, M = M, window = win, lag.max = 2, ymaxr = ymc)),
            quiet(peer$wave.local.multiple.cross.correlation(xx, M = M, window = win, lag.max = 2, ymaxr = ymc)))
  }
}
cat(sprintf("\npeer_sweep: seed %d, %d cases, tolerance %g (local statistics %g)\n", seed, ncase, tol_global,
            tol_local))
cat(sprintf("%-40s %6s %10s %9s %9s %6s\n", "function", "cases", "worst", "ours.err", "peer.err", "over"))
for (fn in names(stats)) {
  s <- stats[[fn]]
  cat(sprintf("%-40s %6d %10.2g %9d %9d %6d\n", fn, s$n, s$worst, s$ours_err, s$peer_err, s$over))
}
over <- sum(vapply(stats, function(s) s$over, 0))
if (over > 0) quit(status = 1)
