d <- read_cqboot_csv(bundled_csv())

test_that("errors carry the library's one-line message and a class by exit code", {
  e <- tryCatch(cq(d, y = "NOPE", x = "GPR"), error = function(e) e)
  expect_s3_class(e, "cqboot_usage_error")
  expect_match(conditionMessage(e), "unknown column 'NOPE'", fixed = TRUE)
  e <- tryCatch(cq(d, y = "GPR", x = "GPRC_CHN", boot = -1), error = function(e) e)
  expect_s3_class(e, "cqboot_usage_error")
  expect_match(conditionMessage(e), "--boot", fixed = TRUE)
  expect_error(cq(d, y = "GPR", x = "GPRC_CHN", alpha = 1.5), class = "cqboot_error")
  expect_error(wmc(d, "GPR"), class = "cqboot_usage_error")
  expect_error(cqboot_run("nosuch"), class = "cqboot_error")
})

test_that("a Ctrl-C during a long call stops it quickly with an interrupt", {
  t0 <- proc.time()[["elapsed"]]
  # the progress function sends this process SIGINT, as Ctrl-C would
  r <- tryCatch(
    cq(d, y = "GPRC_CHN", x = "IPB52300S", alpha = c(0.05, 0.5, 0.95), lags = 1:12, boot = 2e5, seed = 1,
       threads = 2, progress = function(f) if (f > 0.02) tools::pskill(Sys.getpid(), tools::SIGINT)),
    interrupt = function(e) "interrupted")
  expect_identical(r, "interrupted")
  expect_lt(proc.time()[["elapsed"]] - t0, 20)
  # and the next call works
  expect_equal(nrow(cq(d, y = "GPRC_CHN", x = "IPB52300S", alpha = 0.5, lags = 1:2, boot = 0)), 2)
})

test_that("an error in the progress function stops the run with an R error", {
  expect_error(cq(d, y = "GPRC_CHN", x = "IPB52300S", lags = 1:2, boot = 1000, threads = 1,
                  progress = function(f) stop("boom")), "progress function raised an error.*boom")
})
