// hub/late_mailbox.hpp: how a durable write's completion gets from the
// committer thread back onto a connection's strand. Admissions come as
// LateSteps, one post each (one per connection). Telemetry comes as tickets:
// they are collected under a lock, and one post delivers all that landed
// since the last. That post's memory is two slots the mailbox owns (Asio's
// custom allocation example: the handler names its allocator), so a steady
// stream of acknowledgements allocates nothing per message.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "hub/device_session.hpp"
#include "hub/tls_socket.hpp"

namespace chainlab::hub::gateway {

// HandlerSlots: memory for at most two handlers at once (a strand posts the
// handler and, if idle, its own invoker); more fall back to the heap.
class HandlerSlots {
public:
  void *allocate(std::size_t bytes) {
    for (std::size_t i = 0; i < kSlots; ++i)
      if (bytes <= kSlotBytes && !used_[i].exchange(true, std::memory_order_acquire))
        return slots_[i].bytes;
    return ::operator new(bytes);
  }
  void deallocate(void *pointer) {
    for (std::size_t i = 0; i < kSlots; ++i)
      if (pointer == slots_[i].bytes)
        return used_[i].store(false, std::memory_order_release);
    ::operator delete(pointer);
  }

private:
  static constexpr std::size_t kSlots = 2, kSlotBytes = 256;
  struct alignas(std::max_align_t) Slot {
    std::byte bytes[kSlotBytes];
  };
  std::array<Slot, kSlots> slots_;
  std::array<std::atomic<bool>, kSlots> used_{};
};

template <typename T> struct SlotAllocator {
  using value_type = T;
  explicit SlotAllocator(HandlerSlots *slots) noexcept : slots(slots) {}
  template <typename U> SlotAllocator(const SlotAllocator<U> &other) noexcept : slots(other.slots) {}
  T *allocate(std::size_t n) { return static_cast<T *>(slots->allocate(n * sizeof(T))); }
  void deallocate(T *pointer, std::size_t) noexcept { slots->deallocate(pointer); }
  template <typename U> bool operator==(const SlotAllocator<U> &other) const noexcept {
    return slots == other.slots;
  }
  template <typename U> bool operator!=(const SlotAllocator<U> &other) const noexcept {
    return slots != other.slots;
  }
  HandlerSlots *slots;
};

// LateMailbox delivers to |Target| (a connection) on its strand:
// Target::run_late(const LateStep &) and
// Target::on_landed(const std::vector<LateMailbox::Landed> &).
template <typename Target>
class LateMailbox final : public LateOutput,
                          public std::enable_shared_from_this<LateMailbox<Target>> {
public:
  struct Landed {
    std::uint32_t ticket;
    bool kept;
  };

  LateMailbox(std::weak_ptr<Target> target, TlsSocket::Strand strand)
      : target_(std::move(target)), strand_(std::move(strand)) {}

  // Neither posts for a connection that is gone: nothing would take it.
  void run(LateStep step) override {
    if (target_.expired())
      return;
    boost::asio::post(strand_, [self = this->shared_from_this(), step = std::move(step)] {
      if (auto target = self->target_.lock())
        target->run_late(step);
    });
  }

  void landed(std::uint32_t ticket, bool kept) override {
    if (target_.expired())
      return;
    {
      std::lock_guard lock(mutex_);
      arrived_.push_back({ticket, kept});
      if (posted_)
        return; // the delivery on its way takes this one too
      posted_ = true;
      if (!slots_) // only a connection that publishes pays for them
        slots_ = std::make_unique<HandlerSlots>();
    }
    boost::asio::post(strand_, Delivery{this->shared_from_this()});
  }

private:
  // The posted handler: it names the mailbox's slots as its allocator.
  struct Delivery {
    std::shared_ptr<LateMailbox> mailbox;
    using allocator_type = SlotAllocator<Delivery>;
    allocator_type get_allocator() const noexcept { return allocator_type(mailbox->slots_.get()); }
    void operator()() const { mailbox->deliver(); }
  };

  // deliver runs on the strand; |delivering_| is touched nowhere else.
  void deliver() {
    delivering_.clear();
    {
      std::lock_guard lock(mutex_);
      delivering_.swap(arrived_); // both keep their capacity
      posted_ = false;
    }
    if (auto target = target_.lock())
      target->on_landed(delivering_);
  }

  std::weak_ptr<Target> target_;
  TlsSocket::Strand strand_;
  std::mutex mutex_;
  std::vector<Landed> arrived_; // bounded by DeviceSession::kMaxAwaitingDisk
  bool posted_ = false;
  std::vector<Landed> delivering_;
  // Made before the first Delivery is posted, kept until the mailbox goes:
  // 512 bytes that an idle connection does not hold.
  std::unique_ptr<HandlerSlots> slots_;
};

} // namespace chainlab::hub::gateway
