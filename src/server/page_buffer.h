// A transport buffer mapped straight from the kernel (anonymous, private): its pages take
// memory only once written. A worker's UDP batch has 64 slots of 64 KiB because the Responder
// contract gives every answer room for 65535 bytes, yet a UDP answer is at most the
// max_udp_payload clamp (4096) and usually one page, so nearly all of the 4 MiB is never
// written. operator new would not keep that promise: std::make_unique zero-fills every page,
// and even an uninitialised new[] may be carved out of heap memory that an earlier, freed
// allocation (the load's parse, the compile) has already made resident.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/result.h"

namespace geodns::server {

class PageBuffer {
 public:
  PageBuffer() = default;
  // `bytes` rounded up to whole pages; the pages read as zeros until written.
  static Result<PageBuffer> map(size_t bytes);
  PageBuffer(PageBuffer&& other) noexcept;
  PageBuffer& operator=(PageBuffer&& other) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  ~PageBuffer();

  uint8_t* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }  // as asked, not rounded

 private:
  void unmap() noexcept;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;  // whole pages
};

}  // namespace geodns::server
