# Package state: the installed version, read once.
.pkg <- new.env(parent = emptyenv())

.onLoad <- function(libname, pkgname) {
  .pkg$version <- as.character(utils::packageVersion(pkgname, lib.loc = libname))
}

.onAttach <- function(libname, pkgname) {
  packageStartupMessage(
    "cqboot ", utils::packageVersion("cqboot"), ": quantilogram 3.1.1 and wavemulcor 3.1.2 semantics ",
    "(R type-7 quantiles; wavemulcor's 'compat' mode).\n",
    "Drop-in functions (crossq.sb, Qstat.sb, wave.multiple.correlation, ...) give R's point estimates; ",
    "bootstrap bands use cqboot's random streams (seeded from set.seed), so they differ from R's by Monte Carlo noise.")
}
