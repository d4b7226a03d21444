# Records the structure (and point estimates) of R quantilogram 3.1.1's and
# wavemulcor 3.1.2's results for the calls in tests/testthat/helper-shapes.R
# into tests/testthat/fixtures/peer_structure.R, so that the drop-in tests run
# without the peers. Run from bindings/r with the peers installed
# (bench/peers.sh installs them into ~/.cache/cqboot-peers/rlib):
#   R_LIBS=~/.cache/cqboot-peers/rlib Rscript data-raw/record_peer_structure.R
suppressMessages({library(quantilogram); library(wavemulcor); library(waveslim)})
source("tests/testthat/helper-shapes.R")
inp <- peer_inputs("../../data/us_china_monthly.csv")
peer <- c(as.list(asNamespace("quantilogram")), as.list(asNamespace("wavemulcor")))
brick <- function(series) lapply(series, function(x) brick.wall(modwt(x, "la8", 4), "la8"))
set.seed(1)
rec <- list()
for (nm in names(peer_calls)) {
  invisible(capture.output(r <- peer_calls[[nm]](peer, inp, brick)))  # wlmc prints its levels
  pts <- peer_points(nm, r)
  rec[[nm]] <- list(shape = value_shape(r),
                    # the local statistics' 335-row frames stay out of the file: live comparison only
                    points = if (grepl("local", nm)) NULL else pts)
}
rec$versions <- c(quantilogram = as.character(packageVersion("quantilogram")),
                  wavemulcor = as.character(packageVersion("wavemulcor")),
                  waveslim = as.character(packageVersion("waveslim")), R = as.character(getRversion()))
out <- "tests/testthat/fixtures/peer_structure.R"
cat("# Recorded by data-raw/record_peer_structure.R from the real peers; do not edit.\n", file = out)
dput(rec, file = out, control = c("keepNA", "keepInteger", "niceNames", "showAttributes", "digits17"))
# dput overwrote the header: put it back
txt <- readLines(out)
writeLines(c("# Recorded by data-raw/record_peer_structure.R from the real peers; do not edit.", txt), out)
cat("wrote", out, "\n")
