// Glue between RocksDB's encryption plug-in point (rocksdb/env_encryption.h)
// and heliosdb-fileenc's Rust code. Everything about the file format, keys
// and the cipher lives in Rust; this file only
//   * implements EncryptionProvider / BlockAccessCipherStream by calling the
//     Rust callbacks declared below (one call per I/O buffer),
//   * owns the encrypted Env of each heliosdb_fileenc::EncryptedEnv in a
//     table keyed by instance id, and
//   * registers (once) an Env factory in RocksDB's default object library, so
//     that the options string "env=heliosdb-fileenc:<id>" resolves to that
//     Env. This is RocksDB's own way of naming a custom Env in options, and is
//     how rust-rocksdb's Options get it without touching its private types.
//
// With the `fault-injection` cargo feature (tests only; build.rs defines
// HELIOSDB_FILEENC_FAULT_INJECTION) it can also build an env whose
// encrypted file system sits on RocksDB's FaultInjectionTestFS, to simulate
// a power loss: see the section at the end of this file.
//
// No C++ exception may cross into Rust: every function Rust calls catches
// everything and reports an error code instead.

#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "rocksdb/env.h"
#include "rocksdb/env_encryption.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"
#include "rocksdb/status.h"
#include "rocksdb/utilities/object_registry.h"
#ifdef HELIOSDB_FILEENC_FAULT_INJECTION
// An internal header of RocksDB (not under include/); its implementation,
// utilities/fault_injection_fs.cc, is in librocksdb-sys's library
// (rocksdb_lib_sources.txt), so only the declarations are needed here.
#include "utilities/fault_injection_fs.h"
#endif

namespace {

// Result codes shared with src/ffi.rs.
constexpr int kOk = 0;
constexpr int kCorruption = 1;
constexpr int kIOError = 2;

// Room for one error message from Rust (messages never contain key bytes).
constexpr size_t kErrLen = 512;

}  // namespace

extern "C" {
// Implemented in Rust (src/ffi.rs). None of them unwinds.
int heliosdb_fileenc_new_prefix(void* ctx, char* buf, size_t len, char* err,
                                size_t err_len);
int heliosdb_fileenc_open_stream(void* ctx, const char* prefix, size_t len,
                                 void** out_handle, char* err, size_t err_len);
int heliosdb_fileenc_xor(void* handle, uint64_t offset, char* data,
                         size_t len);
void heliosdb_fileenc_close_stream(void* handle);
size_t heliosdb_fileenc_prefix_len(void);
void heliosdb_fileenc_release_ctx(void* ctx);
}

namespace {

using ROCKSDB_NAMESPACE::BlockAccessCipherStream;
using ROCKSDB_NAMESPACE::EncryptionProvider;
using ROCKSDB_NAMESPACE::Env;
using ROCKSDB_NAMESPACE::EnvOptions;
using ROCKSDB_NAMESPACE::FileOptions;
using ROCKSDB_NAMESPACE::FileSystem;
using ROCKSDB_NAMESPACE::FileSystemWrapper;
using ROCKSDB_NAMESPACE::FSWritableFile;
using ROCKSDB_NAMESPACE::FSWritableFileOwnerWrapper;
using ROCKSDB_NAMESPACE::IODebugContext;
using ROCKSDB_NAMESPACE::IOOptions;
using ROCKSDB_NAMESPACE::IOStatus;
using ROCKSDB_NAMESPACE::Logger;
using ROCKSDB_NAMESPACE::ObjectLibrary;
using ROCKSDB_NAMESPACE::Slice;
using ROCKSDB_NAMESPACE::Status;

Status ToStatus(int code, const std::string& fname, const char* msg) {
  switch (code) {
    case kOk:
      return Status::OK();
    case kCorruption:
      return Status::Corruption(fname, msg);
    default:
      return Status::IOError(fname, msg);
  }
}

// A file's keystream: the Rust handle holds the expanded key and the IV.
// Encrypt and Decrypt are one call each into Rust per buffer; RocksDB calls
// them from several threads at once, so the handle is used read-only.
class HeliosStream : public BlockAccessCipherStream {
 public:
  explicit HeliosStream(void* handle) : handle_(handle) {}
  ~HeliosStream() override { heliosdb_fileenc_close_stream(handle_); }
  HeliosStream(const HeliosStream&) = delete;
  HeliosStream& operator=(const HeliosStream&) = delete;

  size_t BlockSize() override { return 16; }

  Status Encrypt(uint64_t offset, char* data, size_t size) override {
    return Xor(offset, data, size);
  }
  Status Decrypt(uint64_t offset, char* data, size_t size) override {
    return Xor(offset, data, size);
  }

 protected:
  // The per-block interface of the base class is never used by RocksDB once
  // Encrypt/Decrypt are overridden; implemented for completeness.
  void AllocateScratch(std::string&) override {}
  Status EncryptBlock(uint64_t block_index, char* data, char*) override {
    return Xor(block_index * 16, data, 16);
  }
  Status DecryptBlock(uint64_t block_index, char* data, char*) override {
    return Xor(block_index * 16, data, 16);
  }

 private:
  Status Xor(uint64_t offset, char* data, size_t size) {
    if (size == 0) return Status::OK();
    if (heliosdb_fileenc_xor(handle_, offset, data, size) != kOk) {
      return Status::IOError("heliosdb-fileenc: keystream failed");
    }
    return Status::OK();
  }

  void* handle_;
};

class HeliosProvider : public EncryptionProvider {
 public:
  // Takes over one reference to the Rust context; released in the destructor.
  explicit HeliosProvider(void* ctx) : ctx_(ctx) {}
  ~HeliosProvider() override { heliosdb_fileenc_release_ctx(ctx_); }
  HeliosProvider(const HeliosProvider&) = delete;
  HeliosProvider& operator=(const HeliosProvider&) = delete;

  static const char* kClassName() { return "HeliosFileEncryption"; }
  const char* Name() const override { return kClassName(); }

  size_t GetPrefixLength() const override {
    return heliosdb_fileenc_prefix_len();
  }

  Status CreateNewPrefix(const std::string& fname, char* prefix,
                         size_t len) const override {
    char err[kErrLen] = {0};
    int code = heliosdb_fileenc_new_prefix(ctx_, prefix, len, err, kErrLen);
    return ToStatus(code, fname, err);
  }

  Status AddCipher(const std::string&, const char*, size_t, bool) override {
    return Status::NotSupported(
        "heliosdb-fileenc: file keys come from the HeliosDB keyring");
  }

  Status CreateCipherStream(
      const std::string& fname, const EnvOptions&, Slice& prefix,
      std::unique_ptr<BlockAccessCipherStream>* result) override {
    char err[kErrLen] = {0};
    void* handle = nullptr;
    int code = heliosdb_fileenc_open_stream(ctx_, prefix.data(), prefix.size(),
                                            &handle, err, kErrLen);
    if (code != kOk) return ToStatus(code, fname, err);
    result->reset(new HeliosStream(handle));
    return Status::OK();
  }

 private:
  void* ctx_;
};

// RocksDB's encrypted file system passes NewLogger straight to the base file
// system, whose PosixLogger writes the info LOG with fopen/fwrite, in
// plaintext (seen in the canary test: a column-family name in LOG). This
// wrapper builds the info log on a writable file of the encrypted file
// system instead (RocksDB's own EnvLogger, as used by custom file systems).
class HeliosFileSystem : public FileSystemWrapper {
 public:
  explicit HeliosFileSystem(const std::shared_ptr<FileSystem>& encrypted)
      : FileSystemWrapper(encrypted) {}
  static const char* kClassName() { return "HeliosEncryptedFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // The env whose GetFileSystem() is this object; set once, right after the
  // env is made, before anything can open a database with it.
  void SetEnv(Env* env) { env_ = env; }

  IOStatus NewLogger(const std::string& fname, const IOOptions&,
                     std::shared_ptr<Logger>* result,
                     IODebugContext*) override {
    if (env_ == nullptr) {
      return IOStatus::IOError("heliosdb-fileenc: env not set up");
    }
    return ROCKSDB_NAMESPACE::status_to_io_status(
        ROCKSDB_NAMESPACE::NewEnvLogger(fname, env_, result));
  }

 private:
  Env* env_ = nullptr;
};

// The envs of live EncryptedEnv instances, by id. The factory hands out raw
// pointers from here without a guard, which is what makes RocksDB's
// LoadStaticObject<Env> (used when parsing "env=...") accept them.
std::mutex g_mu;
std::unordered_map<uint64_t, std::unique_ptr<Env>>& Table() {
  static auto* table = new std::unordered_map<uint64_t, std::unique_ptr<Env>>;
  return *table;
}

constexpr const char* kFactoryName = "heliosdb-fileenc";

Env* LookupEnv(const std::string& uri, std::unique_ptr<Env>* /*guard*/,
               std::string* errmsg) {
  std::string prefix = std::string(kFactoryName) + ":";
  uint64_t id = 0;
  try {
    if (uri.compare(0, prefix.size(), prefix) != 0) {
      throw std::exception();
    }
    size_t used = 0;
    std::string digits = uri.substr(prefix.size());
    id = std::stoull(digits, &used, 10);
    if (used != digits.size()) throw std::exception();
  } catch (...) {
    *errmsg = "heliosdb-fileenc: malformed env id " + uri;
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = Table().find(id);
  if (it == Table().end()) {
    *errmsg = "heliosdb-fileenc: no live EncryptedEnv with id " +
              std::to_string(id) + " (was it dropped?)";
    return nullptr;
  }
  return it->second.get();
}

void RegisterFactoryOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    ObjectLibrary::Default()->AddFactory<Env>(
        ObjectLibrary::PatternEntry(kFactoryName, false).AddNumber(":"),
        LookupEnv);
  });
}

// A file system whose writable files come wrapped in `File`, an
// FSWritableFileOwnerWrapper naming the file system in kFileSystemName().
template <class File>
class WritableFileWrappingFS : public FileSystemWrapper {
 public:
  explicit WritableFileWrappingFS(const std::shared_ptr<FileSystem>& t)
      : FileSystemWrapper(t) {}
  const char* Name() const override { return File::kFileSystemName(); }

  IOStatus NewWritableFile(const std::string& f, const FileOptions& o,
                           std::unique_ptr<FSWritableFile>* r,
                           IODebugContext* dbg) override {
    return Wrap(target()->NewWritableFile(f, o, r, dbg), r);
  }
  IOStatus ReopenWritableFile(const std::string& f, const FileOptions& o,
                              std::unique_ptr<FSWritableFile>* r,
                              IODebugContext* dbg) override {
    return Wrap(target()->ReopenWritableFile(f, o, r, dbg), r);
  }
  IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                             const FileOptions& o,
                             std::unique_ptr<FSWritableFile>* r,
                             IODebugContext* dbg) override {
    return Wrap(target()->ReuseWritableFile(f, old, o, r, dbg), r);
  }

 private:
  static IOStatus Wrap(IOStatus s, std::unique_ptr<FSWritableFile>* r) {
    if (s.ok()) {
      std::unique_ptr<FSWritableFile> inner = std::move(*r);
      r->reset(new File(std::move(inner)));
    }
    return s;
  }
};

// RocksDB's EncryptedWritableFile::Append encrypts each append in a fresh
// buffer rounded up to the file's required alignment, plus that alignment:
// for a POSIX file 8 KiB for a 100-byte WAL record, allocated and freed on
// every commit. That alignment matters only for direct I/O; under buffered
// I/O the files of the base file system report 1, so the buffer is the
// size of the data. Direct-I/O files keep the base alignment.
class BufferedWritableFile : public FSWritableFileOwnerWrapper {
 public:
  explicit BufferedWritableFile(std::unique_ptr<FSWritableFile>&& t)
      : FSWritableFileOwnerWrapper(std::move(t)) {}
  static const char* kFileSystemName() { return "HeliosBufferedFileSystem"; }
  size_t GetRequiredBufferAlignment() const override {
    return use_direct_io() ? target()->GetRequiredBufferAlignment() : 1;
  }
};

using BufferedFileSystem = WritableFileWrappingFS<BufferedWritableFile>;

void CopyErr(const char* msg, char* err, size_t err_len) {
  if (err == nullptr || err_len == 0) return;
  std::strncpy(err, msg, err_len - 1);
  err[err_len - 1] = '\0';
}

// Creates the encrypted Env for instance `id` over the file system `base`
// and makes it reachable as "heliosdb-fileenc:<id>". Takes over one Rust
// reference to `ctx` whatever the outcome: the provider releases it
// (heliosdb_fileenc_release_ctx) when it is destroyed, or this function does
// if no provider was made.
int CreateEnv(void* ctx, uint64_t id, const std::shared_ptr<FileSystem>& base,
              char* err, size_t err_len) {
  bool ctx_owned = false;
  try {
    RegisterFactoryOnce();
    auto* raw = new HeliosProvider(ctx);
    // From here on the provider's destructor releases ctx (shared_ptr
    // deletes `raw` even if its own allocation throws).
    ctx_owned = true;
    std::shared_ptr<EncryptionProvider> provider(raw);
    std::shared_ptr<FileSystem> encrypted =
        ROCKSDB_NAMESPACE::NewEncryptedFS(base, provider);
    if (!encrypted) {
      CopyErr("NewEncryptedFS returned null", err, err_len);
      return kIOError;
    }
    auto fs = std::make_shared<HeliosFileSystem>(encrypted);
    // What NewEncryptedEnv does (a CompositeEnvWrapper over Env::Default()
    // for threads and clock), with the logging fix above in between.
    std::unique_ptr<Env> env = ROCKSDB_NAMESPACE::NewCompositeEnv(fs);
    if (!env) {
      CopyErr("NewCompositeEnv returned null", err, err_len);
      return kIOError;
    }
    fs->SetEnv(env.get());
    std::lock_guard<std::mutex> lock(g_mu);
    if (!Table().emplace(id, std::move(env)).second) {
      CopyErr("duplicate env id", err, err_len);
      return kIOError;
    }
    return kOk;
  } catch (const std::exception& e) {
    CopyErr(e.what(), err, err_len);
  } catch (...) {
    CopyErr("unknown C++ exception", err, err_len);
  }
  if (!ctx_owned) heliosdb_fileenc_release_ctx(ctx);
  return kIOError;
}

}  // namespace

extern "C" {

// The encrypted Env of instance `id`, on the operating system's file system.
int heliosdb_fileenc_env_create(void* ctx, uint64_t id, char* err,
                                size_t err_len) {
  return CreateEnv(
      ctx, id,
      std::make_shared<BufferedFileSystem>(Env::Default()->GetFileSystem()),
      err, err_len);
}

// Rewrites a small file under the current file key: reads it through the
// env (decrypting under whatever key it names), writes the plaintext to
// `<path>.heliosdb-fileenc.tmp` through the env (a fresh header and IV),
// syncs it, and renames it over the original. For files RocksDB writes
// once and never again (IDENTITY) or leaves behind (old OPTIONS files), which
// compaction cannot move to a new key.
int heliosdb_fileenc_reencrypt_file(uint64_t id, const char* path, char* err,
                                    size_t err_len) {
  try {
    Env* env = nullptr;
    {
      std::lock_guard<std::mutex> lock(g_mu);
      auto it = Table().find(id);
      if (it == Table().end()) {
        CopyErr("no such env", err, err_len);
        return kIOError;
      }
      env = it->second.get();
    }
    std::string fname(path);
    std::string data;
    Status s = ROCKSDB_NAMESPACE::ReadFileToString(env, fname, &data);
    std::string tmp = fname + ".heliosdb-fileenc.tmp";
    if (s.ok()) {
      s = ROCKSDB_NAMESPACE::WriteStringToFile(env, data, tmp, true);
    }
    if (s.ok()) s = env->RenameFile(tmp, fname);
    if (s.ok()) {
      size_t slash = fname.find_last_of('/');
      std::string dir = slash == std::string::npos ? "." : fname.substr(0, slash);
      std::unique_ptr<ROCKSDB_NAMESPACE::FSDirectory> d;
      IOStatus ios = env->GetFileSystem()->NewDirectory(dir, IOOptions(), &d, nullptr);
      if (ios.ok()) ios = d->FsyncWithDirOptions(IOOptions(), nullptr, ROCKSDB_NAMESPACE::DirFsyncOptions());
      s = ios;
    }
    if (!s.ok()) {
      env->DeleteFile(tmp).PermitUncheckedError();
      CopyErr(s.ToString().c_str(), err, err_len);
      return s.IsCorruption() ? kCorruption : kIOError;
    }
    return kOk;
  } catch (const std::exception& e) {
    CopyErr(e.what(), err, err_len);
  } catch (...) {
    CopyErr("unknown C++ exception", err, err_len);
  }
  return kIOError;
}

// Forgets instance `id` and deletes its Env (and so its provider, once no
// open file holds it). The caller guarantees no database uses it any more.
void heliosdb_fileenc_env_destroy(uint64_t id) {
  try {
    std::unique_ptr<Env> env;
    {
      std::lock_guard<std::mutex> lock(g_mu);
      auto it = Table().find(id);
      if (it == Table().end()) return;
      env = std::move(it->second);
      Table().erase(it);
    }
    env.reset();
  } catch (...) {
    // Nothing sensible to report: the env is leaked rather than unwinding
    // into Rust.
  }
}

}  // extern "C"

#ifdef HELIOSDB_FILEENC_FAULT_INJECTION
// ---------------------------------------------------------------------------
// Power-loss simulation (cargo feature `fault-injection`, tests only).
//
// The file systems of such an env, top to bottom:
//
//   HeliosFileSystem -> EncryptedFS -> LogicalSizeFileSystem
//     -> FaultInjectionTestFS -> the operating system's file system
//
// FaultInjectionTestFS sits *under* the encryption, so what it holds back is
// ciphertext: the very bytes a power loss would keep off the disk. In its
// "inject unsynced data loss" mode each writable file keeps every appended
// byte in memory until Sync/Fsync/RangeSync; the bytes reach the operating
// system only then. A power loss is: SetFilesystemActive(false) (every later
// write, sync, create, rename and delete fails, so nothing more reaches the
// disk), close the database, then DropUnsyncedFileData (forget the held
// bytes) and DeleteFilesCreatedAfterLastDirSync (remove files whose
// directory entry was never synced, put back files a rename replaced). This
// is the sequence of RocksDB's own fault_injection_test.cc.

namespace {

using ROCKSDB_NAMESPACE::DataVerificationInfo;
using ROCKSDB_NAMESPACE::FaultInjectionTestFS;

// FaultInjectionTestFS's writable file reports as its size only the bytes
// that reached the base file system (the synced ones), where a kernel
// counts the bytes still in its page cache too. The encrypted file system
// takes the keystream offset of each append from that size, so on the fault
// layer alone every append between two syncs would be encrypted at the
// offset of the last sync, and the file would decrypt to garbage. This
// wrapper reports the size a kernel would: the size at open plus every byte
// appended since.
class LogicalSizeWritableFile : public FSWritableFileOwnerWrapper {
 public:
  explicit LogicalSizeWritableFile(std::unique_ptr<FSWritableFile>&& t)
      : FSWritableFileOwnerWrapper(std::move(t)),
        size_(target()->GetFileSize(IOOptions(), nullptr)) {}
  static const char* kFileSystemName() { return "HeliosLogicalSizeFileSystem"; }

  IOStatus Append(const Slice& data, const IOOptions& o,
                  IODebugContext* dbg) override {
    IOStatus s = target()->Append(data, o, dbg);
    if (s.ok()) size_ += data.size();
    return s;
  }
  IOStatus Append(const Slice& data, const IOOptions& o,
                  const DataVerificationInfo& v, IODebugContext* dbg) override {
    IOStatus s = target()->Append(data, o, v, dbg);
    if (s.ok()) size_ += data.size();
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& o, IODebugContext* dbg) override {
    IOStatus s = target()->PositionedAppend(data, offset, o, dbg);
    if (s.ok()) Grow(offset + data.size());
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& o, const DataVerificationInfo& v,
                            IODebugContext* dbg) override {
    IOStatus s = target()->PositionedAppend(data, offset, o, v, dbg);
    if (s.ok()) Grow(offset + data.size());
    return s;
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o,
                    IODebugContext* dbg) override {
    IOStatus s = target()->Truncate(size, o, dbg);
    if (s.ok()) size_ = size;
    return s;
  }
  uint64_t GetFileSize(const IOOptions&, IODebugContext*) override {
    return size_;
  }

 private:
  void Grow(uint64_t end) {
    uint64_t cur = size_.load();
    while (cur < end && !size_.compare_exchange_weak(cur, end)) {
    }
  }

  // Atomic: RocksDB may sync (and so ask sizes) from another thread while
  // the owner appends.
  std::atomic<uint64_t> size_;
};

using LogicalSizeFileSystem = WritableFileWrappingFS<LogicalSizeWritableFile>;

// The fault layers of live power-loss envs, by the env's id; they outlive
// the env (and its database), because the power comes back only after the
// database is closed.
std::unordered_map<uint64_t, std::shared_ptr<FaultInjectionTestFS>>&
FaultTable() {
  static auto* table =
      new std::unordered_map<uint64_t, std::shared_ptr<FaultInjectionTestFS>>;
  return *table;
}

std::shared_ptr<FaultInjectionTestFS> FindFault(uint64_t id) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = FaultTable().find(id);
  return it == FaultTable().end() ? nullptr : it->second;
}

int FromIOStatus(const IOStatus& s, char* err, size_t err_len) {
  if (s.ok()) return kOk;
  CopyErr(s.ToString().c_str(), err, err_len);
  return kIOError;
}

}  // namespace

extern "C" {

// As heliosdb_fileenc_env_create, over a FaultInjectionTestFS that holds
// unsynced bytes in memory; the fault layer is reachable by `id` below
// until heliosdb_fileenc_power_release.
int heliosdb_fileenc_env_create_power_loss(void* ctx, uint64_t id, char* err,
                                           size_t err_len) {
  std::shared_ptr<FileSystem> base;
  try {
    auto fault = std::make_shared<FaultInjectionTestFS>(
        Env::Default()->GetFileSystem());
    fault->SetInjectUnsyncedDataLoss(true);
    // A reader of a file still open for writing sees its unsynced bytes, as
    // it would in the page cache (the default, stated for the reader).
    fault->SetReadUnsyncedData(true);
    base = std::make_shared<LogicalSizeFileSystem>(fault);
    std::lock_guard<std::mutex> lock(g_mu);
    if (!FaultTable().emplace(id, fault).second) {
      throw std::runtime_error("duplicate env id");
    }
  } catch (const std::exception& e) {
    heliosdb_fileenc_release_ctx(ctx);
    CopyErr(e.what(), err, err_len);
    return kIOError;
  } catch (...) {
    heliosdb_fileenc_release_ctx(ctx);
    CopyErr("unknown C++ exception", err, err_len);
    return kIOError;
  }
  int code = CreateEnv(ctx, id, base, err, err_len);
  if (code != kOk) {
    std::lock_guard<std::mutex> lock(g_mu);
    FaultTable().erase(id);
  }
  return code;
}

// The power goes off: from now on every write, sync, file creation, rename
// and deletion through the env fails, and bytes not yet synced stay where
// they are (in memory), never reaching the disk.
int heliosdb_fileenc_power_cut(uint64_t id, char* err, size_t err_len) {
  try {
    auto fault = FindFault(id);
    if (!fault) {
      CopyErr("no such power-loss env", err, err_len);
      return kIOError;
    }
    fault->SetFilesystemActive(
        false, IOStatus::IOError("heliosdb-fileenc: simulated power loss"));
    return kOk;
  } catch (const std::exception& e) {
    CopyErr(e.what(), err, err_len);
  } catch (...) {
    CopyErr("unknown C++ exception", err, err_len);
  }
  return kIOError;
}

// The power comes back; the caller has closed every database on the env.
// What the disk holds afterwards is what a power loss at the moment of
// heliosdb_fileenc_power_cut would have left: unsynced bytes are gone,
// files created since their directory was last synced are gone, files
// replaced by a rename since then are back.
int heliosdb_fileenc_power_restore(uint64_t id, char* err, size_t err_len) {
  try {
    auto fault = FindFault(id);
    if (!fault) {
      CopyErr("no such power-loss env", err, err_len);
      return kIOError;
    }
    if (fault->IsFilesystemActive()) {
      CopyErr("the power was not cut", err, err_len);
      return kIOError;
    }
    IOStatus s = fault->DropUnsyncedFileData();
    if (s.ok()) {
      // DeleteFilesCreatedAfterLastDirSync deletes through the fault
      // layer, which refuses while the power is off.
      fault->SetFilesystemActive(true);
      s = fault->DeleteFilesCreatedAfterLastDirSync(IOOptions(), nullptr);
    }
    if (s.ok()) fault->ResetState();
    return FromIOStatus(s, err, err_len);
  } catch (const std::exception& e) {
    CopyErr(e.what(), err, err_len);
  } catch (...) {
    CopyErr("unknown C++ exception", err, err_len);
  }
  return kIOError;
}

// Forgets the fault layer of `id` (the env, if still alive, keeps its own
// reference).
void heliosdb_fileenc_power_release(uint64_t id) {
  try {
    std::shared_ptr<FaultInjectionTestFS> fault;
    {
      std::lock_guard<std::mutex> lock(g_mu);
      auto it = FaultTable().find(id);
      if (it == FaultTable().end()) return;
      fault = std::move(it->second);
      FaultTable().erase(it);
    }
    fault.reset();
  } catch (...) {
    // Leaked rather than unwinding into Rust.
  }
}

}  // extern "C"
#endif  // HELIOSDB_FILEENC_FAULT_INJECTION
