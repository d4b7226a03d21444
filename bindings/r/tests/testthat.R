library(testthat)
library(cqboot)
test_check("cqboot")
