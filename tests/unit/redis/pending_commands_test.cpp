#include "gatewayd/redis/pending_commands.hpp"

#include <gtest/gtest.h>

namespace {

TEST(PendingCommands, RepliesGoToCommandsInTheOrderTheyWereSent) {
    int a = 1, b = 2, c = 3;
    gw::pending_commands<int> pending;
    pending.push(&a);
    pending.push(&b);
    EXPECT_EQ(pending.take_front(), &a);
    pending.push(&c);
    EXPECT_EQ(pending.take_front(), &b);
    EXPECT_EQ(pending.take_front(), &c);
    EXPECT_TRUE(pending.empty());
}

TEST(PendingCommands, FrontIsTheOldestUnansweredAndStaysUntilAnswered) {
    int a = 1, b = 2;
    gw::pending_commands<int> pending;
    EXPECT_EQ(pending.front(), nullptr);
    pending.push(&a);
    pending.push(&b);
    EXPECT_EQ(pending.front(), &a);
    EXPECT_EQ(pending.front(), &a);
    EXPECT_EQ(pending.take_front(), &a);
    EXPECT_EQ(pending.front(), &b);
    pending.take_front();
    EXPECT_EQ(pending.front(), nullptr);
}

TEST(PendingCommands, AReplyWithoutACommandIsNoticed) {
    gw::pending_commands<int> pending;
    EXPECT_EQ(pending.take_front(), nullptr);
}

TEST(PendingCommands, TakeAllHandsBackEveryWaiterOnce) {
    int a = 1, b = 2;
    gw::pending_commands<int> pending;
    pending.push(&a);
    pending.push(&b);
    const auto all = pending.take_all();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0], &a);
    EXPECT_EQ(all[1], &b);
    EXPECT_EQ(pending.size(), 0u);
    EXPECT_TRUE(pending.take_all().empty());
}

}  // namespace
