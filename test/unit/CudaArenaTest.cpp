//===- CudaArenaTest.cpp - packing a run's intermediates ------------------===//
//
// planArena must never let two intermediates that one step uses overlap,
// and must reuse the bytes of intermediates that are dead.
//
//===----------------------------------------------------------------------===//
#include "CudaArena.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlp::rt;

namespace {

CudaValue temp(int64_t cols, int elemBytes = 2) {
  CudaValue v;
  v.kind = CudaValue::Temp;
  v.cols = cols;
  v.elemBytes = elemBytes;
  return v;
}

CudaStep step(std::initializer_list<int> values) {
  CudaStep s;
  for (int v : values)
    s.args.push_back({CudaArg::Value, v});
  s.args.push_back({CudaArg::Rows});
  return s;
}

void expectNoOverlap(const CudaPlan &plan, const ArenaLayout &layout,
                     int64_t rows) {
  for (const CudaStep &s : plan.steps)
    for (const CudaArg &a : s.args)
      for (const CudaArg &b : s.args) {
        if (a.kind != CudaArg::Value || b.kind != CudaArg::Value ||
            a.index == b.index ||
            plan.values[a.index].kind != CudaValue::Temp ||
            plan.values[b.index].kind != CudaValue::Temp)
          continue;
        const CudaValue &va = plan.values[a.index];
        const uint64_t oa = layout.offsets[a.index],
                       ob = layout.offsets[b.index];
        const uint64_t na = uint64_t(rows) * va.cols * va.elemBytes;
        const CudaValue &vb = plan.values[b.index];
        const uint64_t nb = uint64_t(rows) * vb.cols * vb.elemBytes;
        EXPECT_TRUE(oa + na <= ob || ob + nb <= oa)
            << "values " << a.index << " and " << b.index << " overlap";
        EXPECT_EQ(oa % 256, 0u);
        EXPECT_LE(oa + na, layout.bytes);
      }
}

} // namespace

TEST(CudaArena, DeadIntermediatesShareBytes) {
  // input -> t1 -> t2 -> t3 -> output: t1 and t3 never live together.
  CudaPlan plan;
  CudaValue in;
  in.kind = CudaValue::Input;
  in.cols = 64;
  CudaValue out;
  out.kind = CudaValue::Output;
  out.cols = 64;
  plan.values = {in, temp(512), temp(512), temp(512), out};
  plan.steps = {step({0, 1}), step({1, 2}), step({2, 3}), step({3, 4})};
  auto life = valueLifetimes(plan);
  EXPECT_EQ(life[1].first, 0);
  EXPECT_EQ(life[1].last, 1);
  ArenaLayout layout = planArena(plan, life, 1000);
  expectNoOverlap(plan, layout, 1000);
  EXPECT_EQ(layout.bytes, 2u * 1000 * 512 * 2); // two buffers, not three
  EXPECT_EQ(layout.offsets[1], layout.offsets[3]);
}

TEST(CudaArena, ResidualKeepsItsInputAlive) {
  // t1 is read again by the last step: it may share with nothing in between.
  CudaPlan plan;
  CudaValue in;
  in.kind = CudaValue::Input;
  in.cols = 8;
  plan.values = {in, temp(100), temp(300), temp(200), temp(100)};
  plan.steps = {step({0, 1}), step({1, 2}), step({2, 3}), step({3, 1, 4})};
  ArenaLayout layout = planArena(plan, valueLifetimes(plan), 7);
  expectNoOverlap(plan, layout, 7);
  EXPECT_NE(layout.offsets[1], layout.offsets[4]);
}

TEST(CudaArena, RandomPlansNeverOverlap) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    CudaPlan plan;
    const int n = 2 + rng() % 30;
    for (int i = 0; i < n; ++i)
      plan.values.push_back(temp(1 + rng() % 700, rng() % 2 ? 2 : 4));
    const int steps = 1 + rng() % 40;
    for (int s = 0; s < steps; ++s) {
      CudaStep st;
      for (int a = 0, k = 1 + rng() % 4; a < k; ++a)
        st.args.push_back({CudaArg::Value, static_cast<int>(rng() % n)});
      plan.steps.push_back(st);
    }
    const int64_t rows = rng() % 3 == 0 ? 0 : 1 + rng() % 5000;
    ArenaLayout layout = planArena(plan, valueLifetimes(plan), rows);
    expectNoOverlap(plan, layout, rows);
  }
}
