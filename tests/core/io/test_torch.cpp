// torch.save files: what PyTorch 1.13 wrote (tests/reference/io/*.pt, by
// scripts/gen_io_fixtures.py), hostile files, save_torch's round trip and the corruption sweep.
#include "../helpers.h"
#include "fixtures.h"

namespace io = tg::io;

TEST_CASE("load_torch: PyTorch's state dicts, every dtype, views and protocol 4, bit for bit") {
  const std::vector<std::string> modules = {"0.weight",
                                            "0.bias",
                                            "1.weight",
                                            "1.bias",
                                            "2.weight",
                                            "2.bias",
                                            "2.running_mean",
                                            "2.running_var",
                                            "2.num_batches_tracked",
                                            "3.weight",
                                            "3.bias",
                                            "4.weight",
                                            "5.weight",
                                            "5.bias",
                                            "6.weight",
                                            "6.bias",
                                            "6.running_mean",
                                            "6.running_var",
                                            "6.num_batches_tracked",
                                            "7.weight",
                                            "7.bias"};
  fixtures::check_dict(io::load_torch(fixtures::path("modules.pt")), "modules.pt", modules);
  fixtures::check_dict(io::load_torch(fixtures::path("modules_protocol4.pt")),
                       "modules_protocol4.pt", modules);
  fixtures::check_dict(
      io::load_torch(fixtures::path("dtypes.pt")), "dtypes.pt",
      {"f32", "f64", "f16", "bf16", "i64", "i32", "i16", "i8", "u8", "bool", "scalar", "empty"});
  fixtures::check_dict(
      io::load_torch(fixtures::path("views.pt")), "views.pt",
      {"whole", "row", "column", "transposed", "block", "every_other", "tied", "param"});
}

TEST_CASE("load_torch: a torch state dict loads into the tapegrad modules of the same names") {
  namespace nn = tg::nn;
  nn::Sequential net;
  net.push_back(nn::Linear(3, 2));
  net.push_back(nn::Conv2d(1, 2, 3));
  net.push_back(nn::BatchNorm2d(2));
  net.push_back(nn::LayerNorm({4}));
  net.push_back(nn::Embedding(5, 3));
  net.push_back(nn::Conv1d(2, 3, 2));
  net.push_back(nn::BatchNorm1d(3));
  net.push_back(nn::GroupNorm(1, 2));
  const io::TensorDict sd = io::load_torch(fixtures::path("modules.pt"));
  const tg::nn::LoadStateResult r = net.load_state_dict(sd);
  CHECK(r.missing_keys.empty());
  CHECK(r.unexpected_keys.empty());
  for (const auto& entry : net.state_dict()) {
    const std::string& name = entry.first;
    const tg::Tensor& t = entry.second;
    INFO(name);
    fixtures::check_tensor(t.dtype() == tg::kInt64 ? t : t.to(tg::kFloat32),
                           fixtures::expected("modules.pt").at(name), name);
  }
  // A failed load (a missing entry, strict) changes nothing.
  io::TensorDict partial(sd.begin() + 1, sd.end());
  const std::vector<float> before = net.state_dict()[0].second.to_vector<float>();
  {
    tg::NoGradGuard g;
    net.state_dict()[1].second.fill_(0);
  }
  const std::vector<float> bias = net.state_dict()[1].second.to_vector<float>();
  CHECK_THROWS_AS(net.load_state_dict(partial), tg::Error);
  CHECK(net.state_dict()[1].second.to_vector<float>() == bias);
  CHECK(net.state_dict()[0].second.to_vector<float>() == before);
}

TEST_CASE("load_torch_value: a checkpoint of dicts, an optimizer's state, numbers and strings") {
  const io::TorchValue v = io::load_torch_value(fixtures::path("checkpoint.pt"));
  CHECK(v.at("epoch").to_int() == 7);
  CHECK(v.at("loss").to_double() == 0.125);
  CHECK(v.at("name").str() == "run-1");
  CHECK(v.at("big").to_int() == (std::int64_t{1} << 40));
  CHECK(v.at("negative").to_int() == -3);
  const io::TorchValue& group = v.at("optimizer").at("param_groups").elements().at(0);
  CHECK(group.at("lr").to_double() == 0.01);
  CHECK(group.at("betas").kind() == io::TorchValue::Kind::Tuple);
  CHECK(group.at("betas").elements().at(1).to_double() == 0.999);
  CHECK(group.at("amsgrad").to_bool() == false);
  CHECK(group.at("foreach").is_none());
  CHECK(group.at("params").elements().size() == 2);
  CHECK(v.at("optimizer").at("state").at("0").at("step").tensor().item() == 1);
  fixtures::check_dict(v.tensors(), "checkpoint.pt");
  const io::TensorDict model = io::load_torch(fixtures::path("checkpoint.pt"), "model");
  CHECK(model.size() == 2);
  CHECK(model[0].first == "weight");
  CHECK_THROWS_WITH_AS(io::load_torch(fixtures::path("checkpoint.pt"), "epoch"),
                       doctest::Contains("'epoch' is a int, not a dict of tensors"), tg::IoError);
  CHECK_THROWS_WITH_AS(v.at("nothing"), doctest::Contains("no key 'nothing'"), tg::ValueError);
  CHECK_THROWS_WITH_AS(v.at("epoch").str(), doctest::Contains("expected a str, found int"),
                       tg::ValueError);
}

TEST_CASE("load_torch: hostile and foreign files are refused, naming the file and the fault") {
  const std::pair<const char*, const char*> cases[] = {
      {"os_system.pt", "refusing to load a pickled class or function: posix.system"},
      {"builtins_eval.pt", "refusing to load a pickled class or function: __builtin__.eval"},
      {"whole_module.pt",
       "refusing to load a pickled class or function: torch.nn.modules.linear.Linear (at "
       "pickle offset 34); save model.state_dict(), not the model"},
      {"legacy.pt", "legacy format"},
      {"storage_short.pt", "storage '0' declares 6 float32 elements, but its record holds 16"},
      {"stride_past.pt",
       "tensor ['t'] does not fit its storage '0': shape [2, 2] with strides [4, 1] at offset 0 "
       "reads element 5 of a storage of 4"},
      {"offset_past.pt", "reads element 4 of a storage of 4"},
      {"size_overflow.pt", "shape [4294967296, 4294967296]: its sizes' product overflows int64"},
      {"stride_zero.pt", "needs more elements than the 1 its storage holds"},
      {"storage_missing.pt", "no record archive/data/7"},
      {"zip_claims_2_40.pt", "claims 1099511627776 bytes in 16"},
      {"rebuild_recursive.pt", "_rebuild_from_type_v2 of something other than a plain tensor"},
      {"name_collision.pt", "two tensors named 'a.b'"},
      {"deflated.pt", "is compressed, which torch.save never does"},
  };
  for (const auto& c : cases) {
    const char* name = c.first;
    const char* what = c.second;
    INFO(std::string(name));
    const std::string f = fixtures::path(name);
    CHECK_THROWS_WITH_AS(io::load_torch(f), doctest::Contains(what), tg::IoError);
    CHECK_THROWS_WITH_AS(io::load_torch(f), doctest::Contains(f.c_str()), tg::IoError);
  }
}

TEST_CASE("save_torch: state dicts and checkpoints read back exactly") {
  TempDir dir;
  const io::TensorDict sd = io::load_torch(fixtures::path("views.pt"));
  io::save_torch(sd, dir.file("sd.pt"));
  fixtures::check_dict(
      io::load_torch(dir.file("sd.pt")), "views.pt",
      {"whole", "row", "column", "transposed", "block", "every_other", "tied", "param"});
  io::TorchValue ckpt = io::TorchValue::dict();
  ckpt.set("model", io::TorchValue::from_state_dict(sd));
  ckpt.set("epoch", 3);
  ckpt.set("lr", 1e-3);
  ckpt.set("big", std::int64_t{-1} << 50);
  ckpt.set("note", "fine-tuned");
  ckpt.set("raw", io::TorchValue::from_bytes(std::string("\xff\x00\x01", 3)));
  ckpt.set("flags", io::TorchValue::list({true, false, io::TorchValue()}));
  ckpt.set("betas", io::TorchValue::tuple({0.9, 0.999}));
  io::TorchValue state = io::TorchValue::dict();
  state.set(0, io::TorchValue::dict({{"step", tg::scalar_tensor(4)}}));
  ckpt.set("state", state);
  io::save_torch(ckpt, dir.file("ckpt.pt"));
  const io::TorchValue back = io::load_torch_value(dir.file("ckpt.pt"));
  CHECK(back.at("epoch").to_int() == 3);
  CHECK(back.at("lr").to_double() == 1e-3);
  CHECK(back.at("big").to_int() == (std::int64_t{-1} << 50));
  CHECK(back.at("note").str() == "fine-tuned");
  CHECK(back.at("raw").bytes() == std::string("\xff\x00\x01", 3));
  CHECK(back.at("flags").elements().at(0).to_bool());
  CHECK(back.at("flags").elements().at(2).is_none());
  CHECK(back.at("betas").elements().at(1).to_double() == 0.999);
  CHECK(back.at("state").at("0").at("step").tensor().item() == 4);
  CHECK(back.at("state").items().at(0).first.kind() == io::TorchValue::Kind::Int);
  CHECK(back.tensors().size() == sd.size() + 1);
}

TEST_CASE("load_torch: every truncation and flipped bit is refused or loads in bounds") {
  TempDir dir;
  const std::string f = dir.file("c.pt");
  const std::vector<char> bytes = bytes_of(fixtures::path("views.pt"));
  sweep_corruptions(
      bytes, f,
      [&] {
        std::int64_t numel = 0;
        for (const auto& entry : io::load_torch_value(f).tensors()) numel += entry.second.numel();
        REQUIRE(numel <= 8 * static_cast<std::int64_t>(bytes.size()));
      },
      [] { return true; });
}
