# Same inputs and seed -> the CLI's numbers to the last bit (identical()).

d <- read_cqboot_csv(bundled_csv())
tr <- c(GPRC_CHN = "logdiff", IPB52300S = "logdiff", GPR = "logdiff")
tr_args <- c("--transform", "GPRC_CHN=logdiff", "--transform", "IPB52300S=logdiff", "--transform", "GPR=logdiff")

expect_same_as_cli <- function(r, cli) {
  if (!is.null(cli$csv)) {
    df <- r
    attributes(df) <- attributes(df)[c("names", "row.names", "class")]
    expect_identical(df, cli$csv)
  }
  expect_identical(comparable_json(attr(r, "json")), comparable_json(cli$json))
}

test_that("cq with controls, Q tests and the calibrated test equals the CLI", {
  skip_without_cli()
  r <- cq(d, y = "GPRC_CHN", x = "IPB52300S", transform = tr, control = c(WGI_CHN_GE = 0.5, GPR = 0.5),
          alpha = c(0.05, 0.5, 0.95), lags = 1:3, boot = 300, seed = 2025, threads = 2)
  cli <- run_cli("cq", c("--y", "GPRC_CHN", "--x", "IPB52300S", tr_args, "--control", "WGI_CHN_GE:0.5",
                         "--control", "GPR:0.5", "--alpha", "0.05,0.5,0.95", "--lags", "1-3", "--boot", "300",
                         "--seed", "2025", "--threads", "2"))
  expect_same_as_cli(r, cli)
  expect_equal(nrow(r), 27)
  expect_true(all(c("rho", "rho_partial", "band_lo", "band_hi", "p_value", "p_null") %in% names(r)))
  expect_equal(attr(r, "seed"), 2025)
  expect_length(attr(r, "json")$qtests, 27)
})

test_that("cq grid-wide tests and windows equal the CLI", {
  skip_without_cli()
  r <- cq(d, y = "GPRC_CHN", x = "IPB52300S", transform = tr, alpha = c(0.1, 0.5, 0.9), lags = 1:2,
          boot = 200, seed = 7, gridwide = TRUE, window_years = 10, step = 5, threads = 2)
  cli <- run_cli("cq", c("--y", "GPRC_CHN", "--x", "IPB52300S", tr_args, "--alpha", "0.1,0.5,0.9", "--lags", "1-2",
                         "--boot", "200", "--seed", "7", "--gridwide", "--window-years", "10", "--step", "5",
                         "--threads", "2"))
  expect_same_as_cli(r, cli)
  expect_true(!is.null(attr(r, "json")$rolling))
})

test_that("blocklen equals the CLI", {
  skip_without_cli()
  r <- blocklen(d, c("GPRC_CHN", "IPB52300S"), lag = 1, transform = tr)
  cli <- run_cli("blocklen", c("--cols", "GPRC_CHN,IPB52300S", "--lag", "1", tr_args), csv = FALSE)
  expect_identical(comparable_json(attr(r, "json")), comparable_json(cli$json))
  expect_identical(r$b_sb, vapply(cli$json$results, function(x) x$b_sb, 0))
  expect_identical(attr(r, "gamma"), cli$json$gamma)
})

test_that("modwt, wmc, wmcc, wlmc, wlmcc equal the CLI", {
  skip_without_cli()
  cols <- c("IPB52300S", "GPRC_CHN", "GPR")
  expect_same_as_cli(modwt(d, "GPR", transform = tr, wavelet = "la8", levels = 4),
                     run_cli("modwt", c("--cols", "GPR", tr_args, "--wavelet", "la8", "--levels", "4")))
  expect_same_as_cli(wmc(d, cols, transform = tr, boot = 100, null = "bootstrap", seed = 3, threads = 2),
                     run_cli("wmc", c("--cols", paste(cols, collapse = ","), tr_args, "--boot", "100", "--null",
                                      "bootstrap", "--seed", "3", "--threads", "2")))
  expect_same_as_cli(wmcc(d, cols, transform = tr, lag_max = 3),
                     run_cli("wmcc", c("--cols", paste(cols, collapse = ","), tr_args, "--lag-max", "3")))
  expect_same_as_cli(wlmc(d, cols, transform = tr, M = 24, window = "gaussian"),
                     run_cli("wlmc", c("--cols", paste(cols, collapse = ","), tr_args, "--M", "24", "--window", "gaussian")))
  expect_same_as_cli(wlmcc(d, cols, transform = tr, M = 24, lag_max = 2, levels = 3),
                     run_cli("wlmcc", c("--cols", paste(cols, collapse = ","), tr_args, "--M", "24", "--lag-max", "2",
                                        "--levels", "3")))
})

test_that("simulate equals the CLI", {
  skip_without_cli()
  r <- simulate("null", nsim = 6, T = 120, boot = 60, alpha = c(0.1, 0.5), lags = 2, seed = 11, threads = 2)
  cli <- run_cli("simulate", c("--dgp", "null", "--reps", "6", "--T", "120", "--boot", "60", "--alpha", "0.1,0.5",
                               "--lags", "2", "--seed", "11", "--threads", "2"), data_file = NULL)
  expect_same_as_cli(r, cli)
})

test_that("vectors, ts and data.frames give the same numbers", {
  y <- diff(log(d$GPRC_CHN))
  x <- diff(log(d$IPB52300S))
  a <- cq(y = y, x = x, alpha = c(0.1, 0.5), lags = 1:2, boot = 0)
  b <- cq(data.frame(y = y, x = x), y = "y", x = "x", alpha = c(0.1, 0.5), lags = 1:2, boot = 0)
  yt <- ts(y, start = c(1996, 2), frequency = 12)
  xt <- ts(x, start = c(1996, 2), frequency = 12)
  c2 <- cq(y = yt, x = xt, alpha = c(0.1, 0.5), lags = 1:2, boot = 0)
  expect_identical(a$rho, b$rho)
  expect_identical(a$rho, c2$rho)
  expect_identical(attr(c2, "json")$input$first, "1996-02")
  dd <- data.frame(when = as.Date(sprintf("%s-01", d$date[-1])), y = y, x = x)
  e <- cq(dd, y = "y", x = "x", alpha = c(0.1, 0.5), lags = 1:2, boot = 0, from = "2000-01", to = "2010-12")
  expect_identical(attr(e, "json")$input$first, "2000-01-01")
})

test_that("run_study runs a study file", {
  study <- tempfile(fileext = ".json")
  data_copy <- file.path(dirname(study), "us_china_monthly.csv")
  file.copy(bundled_csv(), data_copy, overwrite = TRUE)
  writeLines(sprintf('{"name": "t", "datasets": {"m": {"file": "%s", "transforms": {"GPRC_CHN": "logdiff", "IPB52300S": "logdiff"}}},
    "defaults": {"seed": 1, "boot": 100},
    "analyses": [{"name": "bl", "kind": "blocklen", "dataset": "m", "cols": ["GPRC_CHN", "IPB52300S"]},
                 {"name": "c", "kind": "cq", "dataset": "m", "y": "GPRC_CHN", "x": "IPB52300S", "alpha": [0.1, 0.5], "lags": "1-2"}]}',
    basename(data_copy)), study)
  # without figures (no module needed): the tables and the report
  s0 <- run_study(study, threads = 2, figures = FALSE)
  expect_true("c" %in% names(s0))
  expect_equal(nrow(s0$c), 8)
  expect_length(list.files(attr(s0, "out"), pattern = "[.]png$"), 0)
  expect_true(file.exists(file.path(attr(s0, "out"), "index.html")))
  # the study's figures need the CLI's figure module (cairo), which the
  # package does not build: CQB_PLOT_MODULE names it (scripts/test_r.sh)
  if (!nzchar(Sys.getenv("CQB_PLOT_MODULE"))) {
    expect_error(run_study(study, threads = 2, figures = TRUE), "libcqboot_plot.so", class = "cqboot_error")
    unlink(c(study, data_copy, attr(s0, "out")), recursive = TRUE)
    skip("no figure module (set CQB_PLOT_MODULE to libcqboot_plot.so)")
  }
  s <- run_study(study, threads = 2)
  expect_true("c" %in% names(s))
  expect_equal(nrow(s$c), 8)
  expect_identical(s$c, s0$c)
  expect_gt(length(list.files(attr(s, "out"), pattern = "[.]png$")), 0)
  unlink(c(study, data_copy, attr(s, "out"), attr(s0, "out")), recursive = TRUE)
})
