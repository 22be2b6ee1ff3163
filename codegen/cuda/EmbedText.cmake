# Writes INPUT as a C++ raw string literal into OUTPUT.
file(READ ${INPUT} text)
file(WRITE ${OUTPUT} "R\"mlpc_kernels(${text})mlpc_kernels\"\n")
