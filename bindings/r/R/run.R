# The one path into the engine: R values -> CLI options + an in-memory data
# set -> cqb_embed_run (the CLI itself, in process) -> a data.frame from the
# CLI's tidy CSV with the JSON on attributes. No analysis logic lives here.

#' @useDynLib cqboot, .registration = TRUE
NULL

# Exit codes of the CLI (docs/cli.md) -> R condition classes.
.error_class <- function(status) {
  switch(as.character(status),
    "2" = "cqboot_usage_error",
    "3" = "cqboot_data_error",
    "4" = "cqboot_backend_error",
    "5" = "cqboot_memory_error",
    "cqboot_internal_error"
  )
}

.stop_cqboot <- function(status, message, call = sys.call(-1)) {
  cls <- .error_class(status)
  cond <- structure(
    class = c(cls, "cqboot_error", "error", "condition"),
    list(message = message, call = call, status = status)
  )
  stop(cond)
}

# One CLI option value as text: numbers with 17 significant digits, so the
# CLI reads back exactly the double R holds.
.opt_text <- function(v) {
  if (is.numeric(v)) {
    s15 <- sprintf("%.15g", v)
    return(ifelse(as.numeric(s15) == v, s15, sprintf("%.17g", v)))
  }
  as.character(v)
}

# Named R arguments -> CLI argv. Names: `_` and `.` become `-`. TRUE -> a
# flag, FALSE/NULL -> nothing, a vector -> one comma-separated value; the
# options in `repeatable` are given once per element instead.
.cli_args <- function(opts, repeatable = c("transform", "control")) {
  args <- character()
  for (nm in names(opts)) {
    v <- opts[[nm]]
    if (is.null(v) || (is.logical(v) && length(v) == 1 && !is.na(v) && !v)) next
    opt <- paste0("--", gsub("[_.]", "-", nm))
    if (is.logical(v) && length(v) == 1 && !is.na(v) && v) {
      args <- c(args, opt)
    } else if (nm %in% repeatable) {
      for (x in v) args <- c(args, opt, x)
    } else {
      args <- c(args, opt, paste(.opt_text(v), collapse = ","))
    }
  }
  args
}

# --transform: c(A = "logdiff", B = "diff") or "A=logdiff" strings.
.transform_args <- function(transform) {
  if (is.null(transform)) return(NULL)
  tr <- unlist(transform)
  if (!is.null(names(tr)) && all(nzchar(names(tr)))) tr <- paste0(names(tr), "=", tr)
  as.character(tr)
}

# --control: "COL", "COL:LEVEL[:LAG]", or c(COL = level), or a list of
# list(column =, level =, lag =).
.control_args <- function(control) {
  if (is.null(control)) return(NULL)
  if (is.list(control) && !is.null(control[[1]]$column)) {
    return(vapply(control, function(c) {
      paste(c(c$column, if (!is.null(c$level)) .opt_text(c$level), if (!is.null(c$lag)) .opt_text(c$lag)), collapse = ":")
    }, ""))
  }
  if (is.numeric(control) && !is.null(names(control))) return(paste0(names(control), ":", .opt_text(control)))
  as.character(control)
}

# Row labels the CLI reads as dates: ISO "YYYY-MM-DD" from Date/POSIXct,
# "YYYY-MM" from a monthly/quarterly/yearly ts.
.ts_labels <- function(x) {
  f <- stats::frequency(x)
  tt <- stats::time(x)
  if (f %in% c(1, 4, 12)) {
    yr <- floor(tt + 1e-8)
    per <- round((tt - yr) * f)
    month <- per * (12 / f) + 1
    return(sprintf("%04d-%02d", as.integer(yr), as.integer(month)))
  }
  NULL
}

# Any supported data -> list(names, cols (doubles), labels or NULL).
.as_frame <- function(data) {
  if (is.null(data)) return(NULL)
  labels <- NULL
  if (stats::is.ts(data)) {
    labels <- .ts_labels(data)
    m <- as.matrix(data)
    if (is.null(colnames(m))) colnames(m) <- if (ncol(m) == 1) "x" else paste0("V", seq_len(ncol(m)))
    data <- as.data.frame(m)
  } else if (is.matrix(data)) {
    if (is.null(colnames(data))) colnames(data) <- paste0("V", seq_len(ncol(data)))
    data <- as.data.frame(data)
  } else if (is.numeric(data) && is.null(dim(data))) {
    data <- data.frame(x = data)
  }
  if (!is.data.frame(data)) stop("data must be a data.frame, matrix, ts or numeric vector", call. = FALSE)
  is_date <- vapply(data, function(c) inherits(c, c("Date", "POSIXt")), TRUE)
  if (any(is_date)) {
    d <- data[[which(is_date)[1]]]
    labels <- format(as.Date(d), "%Y-%m-%d")
  } else if (is.null(labels) && ncol(data) > 0 && (is.character(data[[1]]) || is.factor(data[[1]]))) {
    # as the CLI reads a CSV: a first column of text is the date (or index)
    labels <- as.character(data[[1]])
  } else if (is.null(labels) && .has_row_names(data)) {
    labels <- rownames(data)
  }
  num <- vapply(data, function(c) is.numeric(c) || is.logical(c), TRUE) & !is_date
  cols <- lapply(data[num], function(c) as.double(c))
  list(names = names(data)[num], cols = unname(cols), labels = labels)
}

# Only the columns the options name travel to the engine: the CLI reads
# the data set as a CSV text, and a wide data frame costs milliseconds per
# call for columns the command never looks at. A column is kept when its
# name is one of the option values' tokens (split at , : =), so every
# column an option names (--y, --cols, --control COL:L, --transform COL=T,
# --x-regressors COL:LAG) is there; the results do not depend on the others.
.used_columns <- function(frame, args) {
  if (is.null(frame)) return(NULL)
  tokens <- unique(unlist(strsplit(args, "[,:=]")))
  keep <- frame$names %in% tokens
  frame$names <- frame$names[keep]
  frame$cols <- frame$cols[keep]
  frame
}

.has_row_names <- function(df) {
  rn <- attr(df, "row.names")
  is.character(rn)
}

# The progress function the C layer calls: the user's (or a text bar),
# returning FALSE with the message kept in `state` when it raises an error,
# which stops the run.
.progress_fn <- function(progress, state) {
  fn <- NULL
  if (is.function(progress)) fn <- progress
  if (isTRUE(progress)) {
    bar <- NULL
    fn <- function(f) {
      if (is.null(bar)) bar <<- utils::txtProgressBar(min = 0, max = 1, style = 3)
      utils::setTxtProgressBar(bar, f)
      if (f >= 1) close(bar)
    }
  }
  if (is.null(fn)) return(NULL)
  function(f) {
    tryCatch({
      fn(f)
      TRUE
    }, error = function(e) {
      state$error <- conditionMessage(e)
      FALSE
    })
  }
}

#' Run a cqboot CLI command in process
#'
#' The engine under every function of the package: runs `cqboot COMMAND ARGS`
#' through the library's in-process entry point, with `data` in place of
#' `--data FILE`, and returns what the CLI would write with `--csv` and
#' `--json`. The other functions build `args` from their arguments.
#'
#' @param command a subcommand of the CLI: "cq", "blocklen", "modwt", "wmc",
#'   "wmcc", "wlmc", "wlmcc", "simulate", "run".
#' @param args character vector of CLI options, e.g. `c("--y", "A", "--x", "B")`.
#' @param data a data.frame (a Date column, or else a first column of text
#'   such as "2020-01", or else character row names give the dates; numeric
#'   columns are the series), a matrix, a `ts`, a numeric vector, or NULL (then `args` names
#'   a `--data` file, or the command needs none).
#' @param progress FALSE, TRUE (a text progress bar) or a function of the
#'   completed fraction.
#' @return a data.frame from the CLI's tidy CSV (or the parsed JSON as a list
#'   when the command writes no CSV), with attributes `json` (the whole parsed
#'   JSON), `options`, `seed`, `versions` and `cli_args`.
#' @examples
#' d <- read.csv(system.file("extdata", "us_china_monthly.csv", package = "cqboot"))
#' r <- cqboot_run("blocklen", c("--cols", "GPRC_CHN,IPB52300S"), data = d)
#' @export
cqboot_run <- function(command, args = character(), data = NULL, progress = FALSE) {
  frame <- .used_columns(.as_frame(data), args)
  state <- new.env()
  res <- .Call(cqb_r_run, command, as.character(args), frame, .progress_fn(progress, state))
  if (isTRUE(res$progress_failed)) {
    stop("cqboot: the progress function raised an error, the run was stopped: ", state$error, call. = FALSE)
  }
  if (isTRUE(res$interrupted) || res$status %in% c(130L, 143L)) {
    cond <- structure(class = c("cqboot_interrupt", "interrupt", "condition"), list(message = "interrupted", call = NULL))
    signalCondition(cond)
    stop(structure(class = c("cqboot_interrupt", "error", "condition"), list(message = "cqboot: interrupted", call = NULL)))
  }
  if (res$status != 0L) .stop_cqboot(res$status, res$message)
  .as_result(res, command, args)
}

.as_result <- function(res, command, args) {
  json <- if (!is.null(res$json)) .Call(cqb_r_parse_json, res$json) else NULL
  out <- if (!is.null(res$csv)) .csv_frame(res$csv) else json
  if (is.null(out)) out <- list()
  attr(out, "json") <- json
  attr(out, "options") <- json$options
  attr(out, "seed") <- json$options$seed
  attr(out, "versions") <- c(cqboot = if (!is.null(json$version)) json$version else NA_character_,
                            package = .pkg$version,
                            api = .Call(cqb_r_versions)[["api"]])
  attr(out, "cli_args") <- c(command, args)
  out
}

# The CLI's CSV text -> data.frame, numbers read with strtod (exact).
.csv_frame <- function(text) {
  cols <- .Call(cqb_r_parse_csv, text)
  as.data.frame(cols, stringsAsFactors = FALSE, optional = TRUE)
}

#' Read a CSV written by the cqboot CLI exactly
#'
#' Reads the numbers with the C library's correctly rounded `strtod`, so that a
#' file written by `cqboot ... --csv FILE` compares bit for bit with what the R
#' functions return (R's `read.csv` may differ in the last bit).
#' @param file path to the CSV file.
#' @return a data.frame.
#' @export
read_cqboot_csv <- function(file) {
  .csv_frame(paste(readLines(file, warn = FALSE), collapse = "\n"))
}
