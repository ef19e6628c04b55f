#include "envs/testing/copy_bytes_check.h"

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

#include "absl/strings/str_cat.h"
#include "envs/core/env.h"
#include "envs/core/memory_estimate.h"
#include "envs/core/registry.h"

namespace {

std::atomic<int64_t> live_bytes{0};

// Each block carries its requested size in a header of one max_align_t, so
// delete knows what to subtract and the user pointer stays aligned.
constexpr size_t kHeader = alignof(std::max_align_t);

void* CountedNew(size_t size) {
  void* block = std::malloc(size + kHeader);
  if (block == nullptr) return nullptr;
  *static_cast<size_t*>(block) = size;
  live_bytes.fetch_add(marl::AllocationBytes(static_cast<int64_t>(size)),
                       std::memory_order_relaxed);
  return static_cast<char*>(block) + kHeader;
}

void CountedDelete(void* pointer) {
  if (pointer == nullptr) return;
  void* block = static_cast<char*>(pointer) - kHeader;
  live_bytes.fetch_sub(
      marl::AllocationBytes(static_cast<int64_t>(*static_cast<size_t*>(block))),
      std::memory_order_relaxed);
  std::free(block);
}

void* CountedNewOrThrow(size_t size) {
  void* pointer = CountedNew(size);
  if (pointer == nullptr) throw std::bad_alloc();
  return pointer;
}

}  // namespace

// The replaceable global allocation functions (the over-aligned ones keep
// their default definitions: they pair among themselves).
void* operator new(size_t size) { return CountedNewOrThrow(size); }
void* operator new[](size_t size) { return CountedNewOrThrow(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  return CountedNew(size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  return CountedNew(size);
}
void operator delete(void* pointer) noexcept { CountedDelete(pointer); }
void operator delete[](void* pointer) noexcept { CountedDelete(pointer); }
void operator delete(void* pointer, size_t) noexcept { CountedDelete(pointer); }
void operator delete[](void* pointer, size_t) noexcept {
  CountedDelete(pointer);
}
void operator delete(void* pointer, const std::nothrow_t&) noexcept {
  CountedDelete(pointer);
}
void operator delete[](void* pointer, const std::nothrow_t&) noexcept {
  CountedDelete(pointer);
}

namespace marl {

int64_t LiveHeapBytes() { return live_bytes.load(std::memory_order_relaxed); }

absl::StatusOr<CopyBytesMeasurement> CheckCopyBytesEstimate(
    const std::string& name,
    const std::map<std::string, SettingValue>& settings, double max_factor) {
  absl::StatusOr<const EnvRegistration*> registration =
      EnvRegistry::Global().Find(name);
  if (!registration.ok()) return registration.status();
  absl::StatusOr<Settings> resolved =
      Settings::Resolve(AcceptedSettings(**registration), settings);
  if (!resolved.ok()) return resolved.status();
  absl::StatusOr<int64_t> estimate =
      EstimateCopyBytes(**registration, *resolved);
  if (!estimate.ok()) return estimate.status();

  CopyBytesMeasurement result;
  result.estimate = *estimate;
  const int64_t before = LiveHeapBytes();
  absl::StatusOr<std::unique_ptr<Env>> env =
      (*registration)->factory(*resolved);
  if (!env.ok()) return env.status();
  result.measured = LiveHeapBytes() - before;
  // The StatusOr holding the pointer is not on the heap: nothing else
  // allocated between the two readings stays live.

  const std::string where =
      absl::StrCat(name, ": estimate ", result.estimate, " bytes, copy holds ",
                   result.measured, " bytes");
  if (result.measured > result.estimate) {
    return absl::InternalError(
        absl::StrCat(where, ": the estimate is not an upper bound"));
  }
  if (static_cast<double>(result.estimate) >
      max_factor * static_cast<double>(result.measured)) {
    return absl::InternalError(
        absl::StrCat(where, ": more than ", max_factor, "x too high"));
  }
  return result;
}

}  // namespace marl
