// Tests for atomic file writes and OutputDir's commit / cleanup behaviour.
#include "io/atomic_output.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

namespace peft {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

size_t entries(const std::string& dir) {
  return size_t(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

class AtomicOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = (fs::temp_directory_path() / fmt::format("peft_atomic_{}_{}", ::getpid(), info->name())).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(AtomicOutputTest, WriteFileCreatesAndReplaces) {
  const std::string p = dir_ + "/a.bin";
  ASSERT_TRUE(write_file_atomic(p, std::string("first\0x", 7)).is_ok());
  EXPECT_EQ(slurp(p), std::string("first\0x", 7));
  ASSERT_TRUE(write_file_atomic(p, std::string("second")).is_ok());
  EXPECT_EQ(slurp(p), "second");
  ASSERT_TRUE(write_file_atomic(p, std::vector<std::string_view>{"ab", "", "cd"}).is_ok());
  EXPECT_EQ(slurp(p), "abcd");
  EXPECT_EQ(entries(dir_), 1u);  // no temporary left behind
}

TEST_F(AtomicOutputTest, WriteFileErrorNamesPath) {
  const std::string p = dir_ + "/missing/a.bin";
  Status st = write_file_atomic(p, std::string("x"));
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.message().rfind(p + ": ", 0), 0u) << st.message();
  EXPECT_NE(st.message().find("No such file or directory"), std::string::npos) << st.message();
}

TEST_F(AtomicOutputTest, CopyFile) {
  const std::string from = dir_ + "/from", to = dir_ + "/to";
  ASSERT_TRUE(write_file_atomic(from, std::string("payload")).is_ok());
  ASSERT_TRUE(copy_file_atomic(from, to).is_ok());
  EXPECT_EQ(slurp(to), "payload");
  Status st = copy_file_atomic(dir_ + "/nope", to);
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.message(), dir_ + "/nope: cannot open (No such file or directory)");
  EXPECT_EQ(slurp(to), "payload");  // destination untouched by the failed copy
}

TEST_F(AtomicOutputTest, CommitMovesFolderIntoPlace) {
  const std::string final_dir = dir_ + "/nested/out";  // missing parents are created
  auto out = OutputDir::create(final_dir);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out->tmp_dir(), final_dir + ".tmp-" + std::to_string(::getpid()));
  ASSERT_TRUE(write_file_atomic(out->file("adapter_config.json"), std::string("{}")).is_ok());
  EXPECT_FALSE(fs::exists(final_dir));
  ASSERT_TRUE(out->commit().is_ok());
  EXPECT_EQ(slurp(final_dir + "/adapter_config.json"), "{}");
  EXPECT_FALSE(fs::exists(out->tmp_dir()));
  EXPECT_EQ(entries(dir_ + "/nested"), 1u);
}

TEST_F(AtomicOutputTest, UncommittedFolderIsRemoved) {
  const std::string final_dir = dir_ + "/out";
  std::string tmp;
  {
    auto out = OutputDir::create(final_dir);
    ASSERT_TRUE(out.is_ok());
    tmp = out->tmp_dir();
    fs::create_directories(tmp + "/sub");
    ASSERT_TRUE(write_file_atomic(tmp + "/sub/x", std::string("x")).is_ok());
    EXPECT_TRUE(fs::exists(tmp));
  }  // e.g. an error return before commit()
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_FALSE(fs::exists(final_dir));
  EXPECT_EQ(entries(dir_), 0u);
}

// --overwrite replaces the files the command writes and keeps everything else (issue 13:
// outputs never destroy what they did not write).
TEST_F(AtomicOutputTest, OverwriteReplacesOwnFilesAndKeepsOthers) {
  const std::string final_dir = dir_ + "/out/";  // a trailing slash still gives a sibling temp
  fs::create_directories(dir_ + "/out/sub");
  ASSERT_TRUE(write_file_atomic(dir_ + "/out/precious.txt", std::string("user")).is_ok());
  ASSERT_TRUE(write_file_atomic(dir_ + "/out/new.txt", std::string("old")).is_ok());
  ASSERT_TRUE(write_file_atomic(dir_ + "/out/sub/old", std::string("old")).is_ok());
  auto out = OutputDir::create(final_dir, /*overwrite=*/true);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(fs::path(out->tmp_dir()).parent_path(), fs::path(dir_));
  ASSERT_TRUE(write_file_atomic(out->file("new.txt"), std::string("new")).is_ok());
  fs::create_directories(out->tmp_dir() + "/sub");
  ASSERT_TRUE(write_file_atomic(out->file("sub/fresh"), std::string("fresh")).is_ok());
  EXPECT_EQ(slurp(dir_ + "/out/new.txt"), "old");  // old output intact until commit
  ASSERT_TRUE(out->commit().is_ok());
  EXPECT_EQ(slurp(dir_ + "/out/precious.txt"), "user");
  EXPECT_EQ(slurp(dir_ + "/out/new.txt"), "new");
  EXPECT_EQ(slurp(dir_ + "/out/sub/fresh"), "fresh");  // a folder it wrote replaces its namesake
  EXPECT_FALSE(fs::exists(dir_ + "/out/sub/old"));
  EXPECT_EQ(entries(dir_), 1u);  // neither the temp, a moved-aside folder nor the lock remains
}

TEST_F(AtomicOutputTest, NoOverwriteRefusesANonEmptyFolder) {
  fs::create_directories(dir_ + "/out");
  ASSERT_TRUE(write_file_atomic(dir_ + "/out/x.txt", std::string("x")).is_ok());
  auto out = OutputDir::create(dir_ + "/out", /*overwrite=*/false);
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.status().message().find(dir_ + "/out: is not empty (1 entry: x.txt); pass --overwrite"),
            std::string::npos)
      << out.status().message();

  // An empty folder is filled.
  fs::create_directories(dir_ + "/empty");
  auto empty = OutputDir::create(dir_ + "/empty", /*overwrite=*/false);
  ASSERT_TRUE(empty.is_ok()) << empty.status().message();
  ASSERT_TRUE(write_file_atomic(empty->file("a"), std::string("a")).is_ok());
  ASSERT_TRUE(empty->commit().is_ok());
  EXPECT_EQ(slurp(dir_ + "/empty/a"), "a");

  // Content appearing between create() and commit() is caught too.
  auto late = OutputDir::create(dir_ + "/late", /*overwrite=*/false);
  ASSERT_TRUE(late.is_ok());
  fs::create_directories(dir_ + "/late");
  ASSERT_TRUE(write_file_atomic(dir_ + "/late/y", std::string("y")).is_ok());
  Status st = late->commit();
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("is not empty"), std::string::npos);
  EXPECT_EQ(slurp(dir_ + "/late/y"), "y");
}

TEST_F(AtomicOutputTest, ExistingFileIsNotReplacedByFolder) {
  ASSERT_TRUE(write_file_atomic(dir_ + "/out", std::string("file")).is_ok());
  auto out = OutputDir::create(dir_ + "/out");
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.status().message().find("exists and is a file, not a folder"), std::string::npos);
}

TEST_F(AtomicOutputTest, MoveTransfersOwnership) {
  const std::string final_dir = dir_ + "/out";
  std::optional<OutputDir> holder;
  {
    auto out = OutputDir::create(final_dir);
    ASSERT_TRUE(out.is_ok());
    holder.emplace(std::move(out.value()));
  }  // the moved-from Result is destroyed here and must not delete the folder
  ASSERT_TRUE(fs::exists(holder->tmp_dir()));
  ASSERT_TRUE(holder->commit().is_ok());
  EXPECT_TRUE(fs::is_directory(final_dir));
}

}  // namespace
}  // namespace peft
