# The drop-ins return quantilogram's / wavemulcor's structures (recorded from
# the real packages into fixtures/peer_structure.R) and their point estimates
# (recorded, and live when the peers are installed) to 1e-12.

rec <- dget(test_path("fixtures", "peer_structure.R"))
inp <- peer_inputs(bundled_csv())
ours <- as.list(asNamespace("cqboot"))
brick <- function(series) lapply(series, function(x) test_brick(test_modwt(x, "la8", 4), "la8"))

for (nm in names(peer_calls)) {
  local({
    name <- nm
    test_that(paste(name, "has the peer's structure and point estimates"), {
      set.seed(1)
      r <- peer_calls[[name]](ours, inp, brick)
      expect_identical(value_shape(r), rec[[name]]$shape)
      if (!is.null(rec[[name]]$points)) {
        expect_equal(peer_points(name, r), rec[[name]]$points, tolerance = 1e-12)
      }
    })
  })
}

test_that("the *.opt drop-ins return the structures of the non-opt functions", {
  set.seed(1)
  expect_identical(value_shape(ours$crossq.sb.opt(inp$D[, 1:2], c(0.1, 0.5), 1, 100, 0.05)), rec$crossq.sb$shape)
  expect_identical(value_shape(ours$crossq.partial.sb.opt(inp$D, c(0.1, 0.5, 0.5, 0.5), 2, 100, 0.05)),
                   rec$crossq.partial.sb$shape)
  expect_identical(value_shape(ours$Qstat.sb.opt(inp$D[, 1:2], c(0.1, 0.5), 3, 100, 0.05)), rec$Qstat.sb$shape)
})

test_that("set.seed makes a bootstrap drop-in reproducible", {
  set.seed(5)
  a <- ours$crossq.sb(inp$D[, 1:2], c(0.1, 0.5), 1, 0.1, 200, 0.05)
  set.seed(5)
  b <- ours$crossq.sb(inp$D[, 1:2], c(0.1, 0.5), 1, 0.1, 200, 0.05)
  expect_identical(a, b)
})

test_that("the wavemulcor drop-ins check their input as wavemulcor's users would want", {
  w <- brick(inp$series)
  expect_error(ours$wave.local.multiple.correlation(w, M = 24, window = "tri"), "wrong window type")
  expect_error(ours$wave.multiple.correlation(w, ymaxr = 4), "ymaxr")
  expect_error(ours$wave.multiple.correlation(w[1]), "at least two")
  short <- w
  short[[2]]$d1 <- short[[2]]$d1[-1]
  expect_error(ours$wave.multiple.correlation(short), "xx\\[\\[2\\]\\]\\[\\[1\\]\\]")
  # a series of another filter has another NA pattern: said, and the rows
  # where all are present are used
  other <- w
  other[[3]] <- test_brick(test_modwt(inp$series[[3]], "la16", 4), "la16")
  expect_warning(ours$wave.multiple.correlation(other), "different NA patterns")
  # N sets the intervals' sample size (and nothing else)
  a <- ours$wave.multiple.correlation(w)
  b <- ours$wave.multiple.correlation(w, N = 200)
  expect_identical(a$xy.mulcor[, 1], b$xy.mulcor[, 1])
  expect_true(all(b$xy.mulcor[, 3] - b$xy.mulcor[, 2] > a$xy.mulcor[, 3] - a$xy.mulcor[, 2]))
})

test_that("live: the point estimates equal the installed peers' to 1e-12", {
  suppressWarnings(skip_if_not_installed("quantilogram"))
  suppressWarnings(skip_if_not_installed("wavemulcor"))
  suppressWarnings(skip_if_not_installed("waveslim"))
  # (quantilogram's dependencies warn about Tk without a display)
  peer <- suppressWarnings(c(as.list(asNamespace("quantilogram")), as.list(asNamespace("wavemulcor"))))
  for (name in names(peer_calls)) {
    set.seed(1)
    invisible(utils::capture.output(p <- peer_calls[[name]](peer, inp, brick)))
    set.seed(1)
    r <- peer_calls[[name]](ours, inp, brick)
    expect_equal(peer_points(name, r), peer_points(name, p), tolerance = 1e-12, label = name)
    expect_identical(value_shape(r), value_shape(p), label = name)
  }
})

test_that("live: the wavemulcor drop-ins equal the peer for every filter, window and input form", {
  suppressWarnings(skip_if_not_installed("wavemulcor"))
  suppressWarnings(skip_if_not_installed("waveslim"))
  peer <- suppressWarnings(as.list(asNamespace("wavemulcor")))
  # three series, so that the dependent variable is well defined (for two,
  # both R^2 are equal and R picks by rounding: wavelets.md 3.3)
  cases <- list(list("haar", 5, "uniform"), list("d4", 4, "cleveland"), list("d6", 3, "epanechnikov"),
                list("d8", 3, "bartlett"), list("la8", 4, "wendland"), list("la16", 2, "gauss"),
                list("la20", 3, "wendland"), list("la20", 1, "bartlett"))
  for (cs in cases) {
    wf <- cs[[1]]
    J <- cs[[2]]
    for (walled in c(TRUE, FALSE)) {
      w <- lapply(inp$series, function(x) {
        m <- waveslim::modwt(x, wf, J)
        if (walled) waveslim::brick.wall(m, wf) else m
      })
      lab <- paste(wf, J, cs[[3]], if (walled) "brick-walled" else "plain")
      expect_equal(ours$wave.multiple.correlation(w), peer$wave.multiple.correlation(w), tolerance = 1e-12,
                   label = paste("wmc", lab))
      expect_equal(ours$wave.multiple.correlation(w, N = 200, ymaxr = 2),
                   peer$wave.multiple.correlation(w, N = 200, ymaxr = 2), tolerance = 1e-12, label = paste("wmc N", lab))
      # (waveslim's phase.shift breaks on haar's level-1 shift of 0: no local peer there)
      if (wf == "haar") next
      invisible(utils::capture.output(p <- peer$wave.local.multiple.correlation(w, M = 10, window = cs[[3]])))
      r <- ours$wave.local.multiple.correlation(w, M = 10, window = cs[[3]])
      expect_equal(r, p, tolerance = 1e-12, label = paste("wlmc", lab))
      expect_equal(ours$wave.multiple.cross.correlation(w, lag.max = 4),
                   peer$wave.multiple.cross.correlation(w, lag.max = 4), tolerance = 1e-12, label = paste("wmcc", lab))
      # (wavemulcor's local cross-correlation stops where a compact window
      # leaves lag 0 undefined, wavelets.md 3.7: the Gaussian window here;
      # and it takes seconds a call: two filters)
      if (!(wf %in% c("d4", "la20"))) next
      invisible(utils::capture.output(p <- peer$wave.local.multiple.cross.correlation(w, M = 30, lag.max = 2,
                                                                                     ymaxr = 1)))
      r <- ours$wave.local.multiple.cross.correlation(w, M = 30, lag.max = 2, ymaxr = 1)
      expect_equal(r, p, tolerance = 1e-12, label = paste("wlmcc", lab))
    }
  }
})
