//===- MLPDialect.cpp - the mlp dialect -----------------------------------===//
#include "mlp/IR/MLPDialect.h"
#include "mlp/IR/MLPOps.h"

using namespace mlp;

#include "mlp/IR/MLPDialect.cpp.inc"

void MLPDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "mlp/IR/MLPOps.cpp.inc"
      >();
}
