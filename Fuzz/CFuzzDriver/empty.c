// Declarations only (see CFuzzDriver.h); a C target needs one source file.
