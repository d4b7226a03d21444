# The structure of an R value, as recorded from the real peers in
# fixtures/peer_structure.R (data-raw/record_peer_structure.R): class, type,
# length, dim, names and column names, recursively.
value_shape <- function(x) {
  s <- list(class = class(x), type = typeof(x), length = length(x))
  if (!is.null(dim(x))) s$dim <- dim(x)
  if (!is.null(names(x))) s$names <- names(x)
  if (!is.null(colnames(x))) s$colnames <- colnames(x)
  if (is.list(x)) s$elements <- lapply(unclass(x), value_shape)
  s
}

# The drop-in calls whose structure and values were recorded, on the bundled
# data: D = [dlog GPRC_CHN, dlog IPB52300S, WGI_CHN_GE, dlog GPR].
peer_inputs <- function(csv) {
  d <- read.csv(csv)
  ld <- function(v) diff(log(v))
  D <- cbind(ld(d$GPRC_CHN), ld(d$IPB52300S), d$WGI_CHN_GE[-1], ld(d$GPR))
  series <- list(ld(d$IPB52300S), ld(d$GPRC_CHN), ld(d$GPR))
  list(D = D, series = series)
}

# name -> function(ns, inp, mw) calling the function of namespace ns; mw turns
# the series into what the wavemulcor function gets (brick-walled MODWTs, as
# in wavemulcor's examples, for both). Bootstrap calls use small B: only
# their structure and point estimates are compared.
peer_calls <- list(
  crossq = function(f, inp, mw) f$crossq(inp$D[, 1:2], c(0.05, 0.5), 1),
  crossq.max = function(f, inp, mw) f$crossq.max(inp$D[, 1:2], c(0.1, 0.9), 4),
  crossq.partial = function(f, inp, mw) f$crossq.partial(inp$D, c(0.05, 0.5, 0.5, 0.5), 2),
  crossq.max.partial = function(f, inp, mw) f$crossq.max.partial(inp$D, c(0.05, 0.5, 0.5, 0.5), 3),
  crossq.sb = function(f, inp, mw) f$crossq.sb(inp$D[, 1:2], c(0.1, 0.5), 1, 0.1, 100, 0.05),
  crossq.partial.sb = function(f, inp, mw) f$crossq.partial.sb(inp$D, c(0.1, 0.5, 0.5, 0.5), 2, 0.1, 100, 0.05),
  Qstat.sb = function(f, inp, mw) f$Qstat.sb(inp$D[, 1:2], c(0.1, 0.5), 3, 0.1, 100, 0.05),
  wave.multiple.correlation = function(f, inp, mw) f$wave.multiple.correlation(mw(inp$series)),
  wave.local.multiple.correlation = function(f, inp, mw) f$wave.local.multiple.correlation(mw(inp$series), M = 24),
  wave.multiple.cross.correlation = function(f, inp, mw) f$wave.multiple.cross.correlation(mw(inp$series), lag.max = 3),
  wave.local.multiple.cross.correlation = function(f, inp, mw) {
    f$wave.local.multiple.cross.correlation(mw(inp$series), M = 24, lag.max = 2)
  }
)

# The point estimates in each result (bootstrap bands and critical values
# are Monte Carlo quantities and are not compared).
peer_points <- function(name, r) {
  switch(name,
    crossq.sb = r$vCRQ,
    crossq.partial.sb = r$vParCRQ,
    Qstat.sb = list(r$vecQ.BP, r$vecQ.LB),
    wave.multiple.correlation = r,
    wave.local.multiple.correlation = r[c("val", "lo", "up", "YmaxR")],
    wave.multiple.cross.correlation = r,
    wave.local.multiple.cross.correlation = r,
    r
  )
}

# A waveslim-style MODWT object (periodic pyramid, Percival & Walden 2000,
# 5.4) for the wavemulcor drop-in tests when waveslim is not installed:
# W_j(t) = sum_l h_l V_{j-1}(t - 2^{j-1} l), V_j likewise with g (mod N).
test_modwt <- function(x, wf = "la8", J = 4) {
  if (requireNamespace("waveslim", quietly = TRUE)) return(waveslim::modwt(x, wf, J))
  f <- .Call(cqboot:::cqb_r_filters, wf)
  g <- f$scaling / sqrt(2)
  h <- f$wavelet / sqrt(2)
  N <- length(x)
  V <- as.double(x)
  out <- list()
  for (j in seq_len(J)) {
    W <- numeric(N)
    Vn <- numeric(N)
    for (l in seq_along(g)) {
      idx <- ((seq_len(N) - 1 - 2^(j - 1) * (l - 1)) %% N) + 1
      W <- W + h[l] * V[idx]
      Vn <- Vn + g[l] * V[idx]
    }
    out[[paste0("d", j)]] <- W
    V <- Vn
  }
  out[[paste0("s", J)]] <- V
  structure(out, class = "modwt", wavelet = wf, boundary = "periodic")
}

# waveslim's brick.wall(w, wf) (method "modwt") on a test_modwt() object when
# waveslim is not installed: the first min((2^j - 1)(L - 1), N) coefficients
# of d_j are NA, and the smooth's count is the last level's (wavelets.md 1.5).
test_brick <- function(w, wf) {
  if (requireNamespace("waveslim", quietly = TRUE)) return(waveslim::brick.wall(w, wf))
  L <- length(.Call(cqboot:::cqb_r_filters, wf)$scaling)
  J <- length(w) - 1L
  N <- length(w[[1]])
  for (i in seq_len(J + 1L)) {
    j <- min(i, J)
    nb <- min((2^j - 1) * (L - 1), N)
    if (nb > 0) w[[i]][seq_len(nb)] <- NA
  }
  w
}
