# The drop-ins return quantilogram's / wavemulcor's structures (recorded from
# the real packages into fixtures/peer_structure.R) and their point estimates
# (recorded, and live when the peers are installed) to 1e-12.

rec <- dget(test_path("fixtures", "peer_structure.R"))
inp <- peer_inputs(bundled_csv())
ours <- as.list(asNamespace("cqboot"))
plain <- function(series) lapply(series, test_modwt, "la8", 4)

for (nm in names(peer_calls)) {
  local({
    name <- nm
    test_that(paste(name, "has the peer's structure and point estimates"), {
      set.seed(1)
      r <- peer_calls[[name]](ours, inp, plain)
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

test_that("the inverse MODWT recovers the series; brick-walled input is refused", {
  x <- inp$series[[1]]
  expect_equal(cqboot:::.imodwt(test_modwt(x, "la8", 4)), x, tolerance = 1e-12)
  w <- test_modwt(x, "d4", 3)
  w$d1[1:3] <- NA
  expect_error(ours$wave.multiple.correlation(list(w, w)), "brick.wall")
})

test_that("live: the point estimates equal the installed peers' to 1e-12", {
  suppressWarnings(skip_if_not_installed("quantilogram"))
  suppressWarnings(skip_if_not_installed("wavemulcor"))
  suppressWarnings(skip_if_not_installed("waveslim"))
  # (quantilogram's dependencies warn about Tk without a display)
  peer <- suppressWarnings(c(as.list(asNamespace("quantilogram")), as.list(asNamespace("wavemulcor"))))
  brick <- function(series) lapply(series, function(x) waveslim::brick.wall(waveslim::modwt(x, "la8", 4), "la8"))
  for (name in names(peer_calls)) {
    set.seed(1)
    invisible(utils::capture.output(p <- peer_calls[[name]](peer, inp, brick)))
    set.seed(1)
    r <- peer_calls[[name]](ours, inp, plain)
    expect_equal(peer_points(name, r), peer_points(name, p), tolerance = 1e-12, label = name)
    expect_identical(value_shape(r), value_shape(p), label = name)
  }
})
