// A connection's read buffer: one contiguous block, bytes appended at the end by reads and
// consumed from the front by the parser. Compacted (unread bytes moved to the front) only when
// a read needs room, so views into the unread bytes stay valid between reads.
//
//   http::ReadBuffer in(16 * 1024);
//   auto space = in.space(4096);                   // at least 4096 writable bytes
//   size_t n = co_await socket.async_read_some(asio::buffer(space.data(), space.size()));
//   in.commit(n);
//   parse(in.view()); in.consume(used);
#pragma once

#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace basalt::http {

class ReadBuffer {
 public:
  explicit ReadBuffer(size_t initial = 16 * 1024) : initial_(initial) {}

  std::string_view view() const { return {data_.get() + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Writable room of at least `min` bytes after the unread ones; compacts or grows as needed.
  // Invalidates views into the buffer when it moves bytes.
  std::span<char> space(size_t min) {
    if (!data_) {
      cap_ = initial_ > min ? initial_ : min;
      data_ = std::make_unique_for_overwrite<char[]>(cap_);
    }
    if (cap_ - end_ < min && begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (cap_ - end_ < min) {
      size_t cap = cap_ * 2 > end_ + min ? cap_ * 2 : end_ + min;
      auto grown = std::make_unique_for_overwrite<char[]>(cap);
      std::memcpy(grown.get(), data_.get(), end_);
      data_ = std::move(grown);
      cap_ = cap;
    }
    return {data_.get() + end_, cap_ - end_};
  }

  void commit(size_t n) { end_ += n; }

  // Gives the memory back while the connection idles if a burst grew it past its initial
  // size (only when nothing is unread). The initial block is kept: freeing it on every idle
  // wait would cost an allocation per request.
  void shrink_if_grown() {
    if (empty() && cap_ > initial_) data_.reset(), cap_ = 0, begin_ = end_ = 0;
  }

  size_t capacity() const { return cap_; }

 private:
  size_t initial_;
  std::unique_ptr<char[]> data_;
  size_t cap_ = 0, begin_ = 0, end_ = 0;
};

}  // namespace basalt::http
