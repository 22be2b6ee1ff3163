// RUN: mlp-opt %s -mlp-cpu-column-entry | FileCheck %s

// The SPMD entry of a row-independent model: buffers become views of the
// shared scratch (64-byte aligned, batch * bytes per row of the buffers
// before), a kernel with a column variant runs this thread's chunks
// [t * n / T, (t + 1) * n / T), other steps run on thread 0, and barriers
// separate a step from the next one of other threads.
// CHECK: module attributes {mlp.column_scratch_bytes_per_row = 2112 : i64}
// CHECK: func.func private @mlpc_column_barrier()
// CHECK-LABEL: func.func @m_columns(
// CHECK-SAME: %[[X:[^:]+]]: memref<?x64xf32>, %[[W:[^:]+]]: memref<64x512xf32>, %[[B:[^:]+]]: memref<512xf32>, %[[W2:[^:]+]]: memref<512x1xf32>, %[[Y:[^:]+]]: memref<?x1xf32>, %[[S:[^:]+]]: memref<?xi8>, %[[T:[^:]+]]: index, %[[TS:[^:]+]]: index)
// CHECK-SAME: llvm.emit_c_interface
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[T]], %c0
// CHECK: %[[N:.+]] = memref.dim %[[X]]
// CHECK: %[[V:.+]] = memref.view %[[S]][%{{.+}}][%[[N]]] : memref<?xi8> to memref<?x512xf32>
// CHECK: %[[LO:.+]] = arith.divui %{{.+}}, %[[TS]]
// CHECK: %[[HI:.+]] = arith.divui %{{.+}}, %[[TS]]
// CHECK: scf.for %[[I:.+]] = %[[LO]] to %[[HI]]
// CHECK:   %[[COL:.+]] = arith.muli %[[I]], %c128
// CHECK:   func.call @k_columns(%[[B]], %[[V]], %[[X]], %[[W]], %[[COL]])
// CHECK: %[[V1:.+]] = memref.view %[[S]][%{{.+}}][%[[N]]] : memref<?xi8> to memref<?x1xf32>
// CHECK: call @mlpc_column_barrier()
// CHECK: scf.if %[[FIRST]] {
// CHECK:   func.call @head(%[[V]], %[[V1]], %[[W2]])
// CHECK: scf.if %[[FIRST]] {
// CHECK:   memref.copy %[[V1]], %[[Y]]
// CHECK-NOT: mlpc_column_barrier
// CHECK-NOT: memref.dealloc
// CHECK: return
module {
  func.func private @k(%b: memref<512xf32>, %d: memref<?x512xf32>, %x: memref<?x64xf32>, %w: memref<64x512xf32>) attributes {mlp.kernel, mlp.column_chunk = 128 : i64, mlp.column_count = 4 : i64, mlp.column_kernel = @k_columns} {
    return
  }
  func.func private @k_columns(%b: memref<512xf32>, %d: memref<?x512xf32>, %x: memref<?x64xf32>, %w: memref<64x512xf32>, %c: index) attributes {mlp.kernel} {
    return
  }
  func.func private @head(%x: memref<?x512xf32>, %d: memref<?x1xf32>, %w: memref<512x1xf32>) attributes {mlp.kernel} {
    return
  }
  func.func @m(%x: memref<?x64xf32>, %w: memref<64x512xf32>, %b: memref<512xf32>, %w2: memref<512x1xf32>, %y: memref<?x1xf32>) attributes {llvm.emit_c_interface, mlp.model, mlp.rows_independent} {
    %c0 = arith.constant 0 : index
    %n = memref.dim %x, %c0 : memref<?x64xf32>
    %h = memref.alloc(%n) {alignment = 64 : i64} : memref<?x512xf32>
    call @k(%b, %h, %x, %w) : (memref<512xf32>, memref<?x512xf32>, memref<?x64xf32>, memref<64x512xf32>) -> ()
    %o = memref.alloc(%n) {alignment = 64 : i64} : memref<?x1xf32>
    call @head(%h, %o, %w2) : (memref<?x512xf32>, memref<?x1xf32>, memref<512x1xf32>) -> ()
    memref.copy %o, %y : memref<?x1xf32> to memref<?x1xf32>
    memref.dealloc %h : memref<?x512xf32>
    memref.dealloc %o : memref<?x1xf32>
    return
  }
}
