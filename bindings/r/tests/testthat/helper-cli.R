# The bundled data and the cqboot CLI executable (for the identity tests):
# CQBOOT_CLI names it (scripts/test_r.sh sets it); otherwise a build folder of
# the repository when the tests run inside it.
bundled_csv <- function() system.file("extdata", "us_china_monthly.csv", package = "cqboot")

cli_path <- function() {
  p <- Sys.getenv("CQBOOT_CLI")
  if (nzchar(p) && file.exists(p)) return(p)
  for (b in Sys.glob(file.path("..", "..", "..", "..", "build*", "cqboot"))) if (file.exists(b)) return(normalizePath(b))
  ""
}

skip_without_cli <- function() {
  if (!nzchar(cli_path())) skip("the cqboot CLI is not built (set CQBOOT_CLI)")
}

# Runs `cqboot COMMAND --data FILE ARGS --csv - ... ` and returns the CSV
# (read exactly) and the parsed JSON.
run_cli <- function(command, args, data_file = bundled_csv(), csv = TRUE) {
  dir <- tempfile("cqb-cli-")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  jf <- file.path(dir, "out.json")
  cf <- file.path(dir, "out.csv")
  full <- c(command, if (!is.null(data_file)) c("--data", data_file), args, "--json", jf, if (csv) c("--csv", cf), if (command != "blocklen") "--quiet")
  status <- system2(cli_path(), full, stdout = FALSE, stderr = FALSE)
  if (status != 0) stop("cli failed: ", paste(full, collapse = " "))
  list(csv = if (csv) read_cqboot_csv(cf) else NULL,
       json = .Call(cqboot:::cqb_r_parse_json, paste(readLines(jf, warn = FALSE), collapse = "\n")))
}

# The JSON without what differs between a file and an in-memory data set
# (input: file name and hash), between runs (timing), and between a program
# and a library in a host process (wait_policy: the CLI asks OpenMP for
# passive waiting at start-up, which a library loaded into R cannot).
comparable_json <- function(j) {
  j$input <- NULL
  j$timing <- NULL
  j$options$wait_policy <- NULL
  j
}
