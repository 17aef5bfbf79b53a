#include "minitrain/io/hdf5_export.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <hdf5.h>

#include <utility>

#include "minitrain/base/error.hpp"
#include "minitrain/io/atomic_file.hpp"
#include "minitrain/io/prediction_files.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

// An HDF5 identifier closed by the function that matches its kind.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t), const std::string& what) : id_(id), close_(close) {
    if (id_ < 0) throw Error(fmt::format("HDF5: cannot {}", what));
  }
  ~Handle() { if (id_ >= 0) close_(id_); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)), close_(other.close_) {}
  hid_t get() const { return id_; }
  void close() {
    if (close_(std::exchange(id_, -1)) < 0) throw Error("HDF5: cannot close the file");
  }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

void check(herr_t status, const std::string& what) {
  if (status < 0) throw Error(fmt::format("HDF5: cannot {}", what));
}

Handle utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "make a string type");
  check(H5Tset_size(type.get(), H5T_VARIABLE), "make a string type");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), "make a string type");
  return type;
}

// The file type for a tensor's dtype, as h5py and numpy read it back.
Handle file_type(at::ScalarType dtype) {
  auto copy = [](hid_t type) { return Handle(H5Tcopy(type), H5Tclose, "copy a type"); };
  switch (dtype) {
    case at::kDouble: return copy(H5T_IEEE_F64LE);
    case at::kFloat: case at::kBFloat16: return copy(H5T_IEEE_F32LE);
    case at::kHalf: {  // IEEE binary16, the layout h5py maps to numpy.float16
      Handle type = copy(H5T_IEEE_F32LE);
      check(H5Tset_fields(type.get(), 15, 10, 5, 0, 10), "make a float16 type");
      check(H5Tset_size(type.get(), 2), "make a float16 type");
      check(H5Tset_ebias(type.get(), 15), "make a float16 type");
      return type;
    }
    case at::kLong: return copy(H5T_STD_I64LE);
    case at::kInt: return copy(H5T_STD_I32LE);
    case at::kShort: return copy(H5T_STD_I16LE);
    case at::kChar: return copy(H5T_STD_I8LE);
    case at::kByte: return copy(H5T_STD_U8LE);
    case at::kBool: {  // h5py's bool: an int8 enum of FALSE and TRUE
      Handle type(H5Tenum_create(H5T_NATIVE_INT8), H5Tclose, "make a bool type");
      const std::int8_t no = 0, yes = 1;
      check(H5Tenum_insert(type.get(), "FALSE", &no), "make a bool type");
      check(H5Tenum_insert(type.get(), "TRUE", &yes), "make a bool type");
      return type;
    }
    default: throw Error(fmt::format("HDF5 export has no type for {}", c10::toString(dtype)));
  }
}

at::ScalarType stored_dtype(at::ScalarType dtype) { return dtype == at::kBFloat16 ? at::kFloat : dtype; }

void string_attribute(hid_t object, const char* name, const std::string& value) {
  const Handle type = utf8_string_type();
  const Handle space(H5Screate(H5S_SCALAR), H5Sclose, "make a dataspace");
  const Handle attribute(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                         fmt::format("write the attribute {}", name));
  const char* text = value.c_str();
  check(H5Awrite(attribute.get(), type.get(), &text), fmt::format("write the attribute {}", name));
}

void string_list_attribute(hid_t object, const char* name, const std::vector<std::string>& values) {
  const Handle type = utf8_string_type();
  const hsize_t count = values.size();
  const Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose, "make a dataspace");
  const Handle attribute(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                         fmt::format("write the attribute {}", name));
  std::vector<const char*> texts;
  for (const std::string& value : values) texts.push_back(value.c_str());
  if (!texts.empty()) check(H5Awrite(attribute.get(), type.get(), texts.data()), fmt::format("write the attribute {}", name));
}

void encoding(hid_t object, const char* type, const char* version) {
  string_attribute(object, "encoding-type", type);
  string_attribute(object, "encoding-version", version);
}

Handle group(hid_t parent, const std::string& name, const char* type = "dict", const char* version = "0.1.0") {
  Handle made(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
              fmt::format("create the group {}", name));
  if (type) encoding(made.get(), type, version);
  return made;
}

void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values, bool anndata) {
  const Handle type = utf8_string_type();
  const hsize_t count = values.size();
  const Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose, "make a dataspace");
  const Handle dataset(H5Dcreate2(parent, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       H5Dclose, fmt::format("create the dataset {}", name));
  std::vector<const char*> texts;
  for (const std::string& value : values) texts.push_back(value.c_str());
  if (count > 0) check(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, texts.data()), fmt::format("write {}", name));
  if (anndata) encoding(dataset.get(), "string-array", "0.2.0");
}

void scalar_string(hid_t parent, const std::string& name, const std::string& value) {
  const Handle type = utf8_string_type();
  const Handle space(H5Screate(H5S_SCALAR), H5Sclose, "make a dataspace");
  const Handle dataset(H5Dcreate2(parent, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       H5Dclose, fmt::format("create the dataset {}", name));
  const char* text = value.c_str();
  check(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text), fmt::format("write {}", name));
  encoding(dataset.get(), "string", "0.2.0");
}

// Creates the dataset and writes the tensor's rows into it as they arrive.
void write_tensor(hid_t parent, const std::string& name, const ExportTensor& tensor, std::size_t index, const RowSource& rows,
                  bool anndata) {
  const Handle type = file_type(tensor.dtype);
  const std::vector<hsize_t> dims(tensor.shape.begin(), tensor.shape.end());
  const Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose, "make a dataspace");
  const Handle dataset(H5Dcreate2(parent, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       H5Dclose, fmt::format("create the dataset {}", name));
  hsize_t done = 0;
  rows(index, [&](const at::Tensor& block) {
    const at::Tensor data = block.to(stored_dtype(tensor.dtype)).contiguous();
    std::vector<hsize_t> start(dims.size(), 0), count(dims);
    start[0] = done;
    count[0] = static_cast<hsize_t>(data.size(0));
    if (count[0] == 0) return;
    const Handle memory(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose, "make a dataspace");
    check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), "select rows");
    check(H5Dwrite(dataset.get(), type.get(), memory.get(), space.get(), H5P_DEFAULT, data.data_ptr()),
          fmt::format("write {}", name));
    done += count[0];
  });
  if (done != dims[0]) throw Error(fmt::format("HDF5 export: {} got {} rows, not {}", name, done, dims[0]));
  if (anndata) encoding(dataset.get(), "array", "0.2.0");
}

// Writes the file under a temporary name with `fill`, then renames it.
void write_hdf5_file(const fs::path& path, const SaveOptions& options, const std::function<void(hid_t)>& fill) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are ours to report, not printed by the library
  const fs::path temporary = temporary_path_for(path);
  try {
    Handle file(H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                fmt::format("create {}", path.string()));
    fill(file.get());
    file.close();
    commit_file(temporary, path, options);
  } catch (const DataError&) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  } catch (const Error& e) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw Error(fmt::format("{}: error: {}", path.string(), e.what()));
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

}  // namespace

void export_hdf5(const ExportPlan& plan, const RowSource& rows, const fs::path& path, const SaveOptions& options) {
  write_hdf5_file(path, options, [&](hid_t file) {
    string_attribute(file, "format", "minitrain-predictions");
    for (std::size_t i = 0; i < plan.tensors.size(); ++i) write_tensor(file, plan.tensors[i].name, plan.tensors[i], i, rows, false);
    if (!plan.ids.empty()) write_strings(file, kIdsKey, plan.ids, false);
  });
}

void export_h5ad(const ExportPlan& plan, const RowSource& rows, const fs::path& path, const std::optional<std::string>& x_key,
                 const SaveOptions& options) {
  std::optional<std::size_t> x;
  for (std::size_t i = 0; i < plan.tensors.size() && !x; ++i) {
    const ExportTensor& t = plan.tensors[i];
    if (x_key ? t.name == *x_key : t.shape.size() == 2 && t.shape[0] == plan.rows && at::isFloatingType(t.dtype)) x = i;
  }
  if (x_key && (!x || plan.tensors[*x].shape.size() != 2 || plan.tensors[*x].shape[0] != plan.rows)) {
    std::vector<std::string> two_dims;
    for (const ExportTensor& t : plan.tensors)
      if (t.shape.size() == 2 && t.shape[0] == plan.rows) two_dims.push_back(t.name);
    throw DataError(fmt::format("collect: --x-key {}: .X needs an output with two dims [samples, features]; these have two: {}",
                                *x_key, two_dims.empty() ? "none" : fmt::format("{}", fmt::join(two_dims, ", "))));
  }
  std::vector<std::string> obs_names = plan.ids;
  std::vector<std::string> obs_columns;
  const auto per_sample = [&](const ExportTensor& t) { return t.shape[0] == plan.rows; };
  for (const ExportTensor& t : plan.tensors)
    if (t.shape.size() == 1 && per_sample(t)) obs_columns.push_back(t.name);
  write_hdf5_file(path, options, [&](hid_t file) {
    encoding(file, "anndata", "0.1.0");
    if (x) write_tensor(file, "X", plan.tensors[*x], *x, rows, true);
    const Handle obs = group(file, "obs", "dataframe", "0.2.0");
    string_attribute(obs.get(), "_index", "_index");
    string_list_attribute(obs.get(), "column-order", obs_columns);
    if (obs_names.empty()) {  // no IDs: rows are named by their dataset index, as anndata names them
      for (std::int64_t i = 0; i < plan.rows; ++i) obs_names.push_back(std::to_string(i));
    }
    write_strings(obs.get(), "_index", obs_names, true);
    const Handle obsm = group(file, "obsm");
    const Handle uns = group(file, "uns");
    for (std::size_t i = 0; i < plan.tensors.size(); ++i) {
      const ExportTensor& t = plan.tensors[i];
      if (!per_sample(t))
        write_tensor(uns.get(), t.name, t, i, rows, true);
      else if (t.shape.size() == 1)
        write_tensor(obs.get(), t.name, t, i, rows, true);
      else if (i != x)
        write_tensor(obsm.get(), t.name, t, i, rows, true);
    }
    const Handle var = group(file, "var", "dataframe", "0.2.0");
    string_attribute(var.get(), "_index", "_index");
    string_list_attribute(var.get(), "column-order", {});
    std::vector<std::string> var_names;
    for (std::int64_t j = 0; x && j < plan.tensors[*x].shape[1]; ++j) var_names.push_back(std::to_string(j));
    write_strings(var.get(), "_index", var_names, true);
    for (const char* empty : {"layers", "obsp", "varm", "varp"}) group(file, empty);
    if (x) scalar_string(uns.get(), "minitrain_X", plan.tensors[*x].name);  // which output .X holds
  });
}

}  // namespace minitrain
