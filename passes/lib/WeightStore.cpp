//===- WeightStore.cpp - weight values beside the IR ----------------------===//
#include "mlp/Passes/WeightStore.h"

#include <cstring>

using namespace mlp;

std::unique_ptr<WeightStore> WeightStore::open(const std::string &path,
                                               std::string &error) {
  auto file = SafetensorsFile::open(path, error);
  if (!file)
    return nullptr;
  auto store = std::unique_ptr<WeightStore>(new WeightStore());
  store->file = std::move(file);
  return store;
}

const TensorView *WeightStore::find(const std::string &name) const {
  auto it = replaced.find(name);
  if (it != replaced.end())
    return &it->second->view;
  return file->find(name);
}

void WeightStore::setFloat32(const std::string &name,
                             std::vector<int64_t> shape,
                             std::vector<float> values) {
  auto owned = std::make_unique<Owned>();
  owned->values = std::move(values);
  owned->view.name = name;
  owned->view.dtype = "float32";
  owned->view.shape = std::move(shape);
  owned->view.data = reinterpret_cast<const uint8_t *>(owned->values.data());
  owned->view.nbytes = owned->values.size() * sizeof(float);
  replaced[name] = std::move(owned);
}

std::vector<double> WeightStore::readAsDouble(const std::string &name,
                                              bool original) const {
  const TensorView *t = original ? file->find(name) : find(name);
  if (!t || t->dtype != "float32")
    return {};
  std::vector<double> out(t->nbytes / sizeof(float));
  for (size_t i = 0; i < out.size(); ++i) {
    float v;
    std::memcpy(&v, t->data + i * sizeof(float), sizeof v);
    out[i] = v;
  }
  return out;
}

bool WeightStore::write(const std::string &path,
                        const std::vector<std::string> &names,
                        std::string &error) const {
  std::vector<TensorToWrite> tensors;
  for (const std::string &name : names) {
    const TensorView *t = find(name);
    if (!t) {
      error = "weight '" + name + "' is not in the store";
      return false;
    }
    tensors.push_back({t->name, t->dtype, t->shape, t->data, t->nbytes});
  }
  return writeSafetensors(path, tensors, error);
}
