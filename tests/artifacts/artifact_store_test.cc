#include "artifacts/artifact_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/ids.h"

namespace cairn::artifacts {
namespace {

namespace fs = std::filesystem;

class ArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("cairn-art-" + NewUuidHex());
    fs::create_directories(base_);
    store_ = std::make_unique<LocalArtifactStore>((base_ / "root").string());
    ASSERT_TRUE(store_->Init().ok());
  }
  void TearDown() override { fs::remove_all(base_); }

  fs::path base_;
  std::unique_ptr<LocalArtifactStore> store_;
};

TEST(ValidateRelativePathTest, RejectsWhatMlflowRejects) {
  EXPECT_TRUE(ValidateRelativePath("").ok());
  EXPECT_TRUE(ValidateRelativePath("1/abc/artifacts/model/MLmodel").ok());
  EXPECT_TRUE(ValidateRelativePath("a..b/c").ok());
  for (const char* bad : {"../x", "a/../../x", "a/..", "/etc/passwd", "a\\b", "a#b", "C:/x"}) {
    Status st = ValidateRelativePath(bad);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(st.message(), "Invalid path") << bad;
  }
  EXPECT_FALSE(ValidateRelativePath(std::string("a\0b", 3)).ok());
}

TEST_F(ArtifactStoreTest, PutListReadDelete) {
  ASSERT_TRUE(store_->PutBytes("1/run/artifacts/a.txt", "hello").ok());
  ASSERT_TRUE(store_->PutBytes("1/run/artifacts/sub/b.json", "{}").ok());
  auto listing = store_->List("1/run/artifacts");
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->size(), 2u);
  EXPECT_EQ((*listing)[0].path, "a.txt");
  EXPECT_FALSE((*listing)[0].is_dir);
  EXPECT_EQ((*listing)[0].file_size, 5);
  EXPECT_EQ((*listing)[1].path, "sub");
  EXPECT_TRUE((*listing)[1].is_dir);

  auto file = store_->FileForRead("1/run/artifacts/a.txt");
  ASSERT_TRUE(file.ok());
  std::ifstream in(*file);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "hello");

  EXPECT_EQ(store_->FileForRead("1/run/artifacts/missing").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->FileForRead("1/run/artifacts/sub").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(store_->List("no/such/dir")->empty());

  ASSERT_TRUE(store_->Delete("1/run/artifacts/sub").ok());
  EXPECT_EQ(store_->List("1/run/artifacts")->size(), 1u);
  EXPECT_EQ(store_->Delete("1/run/artifacts/sub").code(), Code::kNotFound);
  EXPECT_FALSE(store_->Delete("").ok());
}

TEST_F(ArtifactStoreTest, OverwriteIsAtomicReplace) {
  ASSERT_TRUE(store_->PutBytes("x/f", "one").ok());
  ASSERT_TRUE(store_->PutBytes("x/f", "two!").ok());
  EXPECT_EQ((*store_->List("x"))[0].file_size, 4);
  // Nothing is left behind in staging.
  EXPECT_TRUE(fs::is_empty(store_->staging_dir()));
}

TEST_F(ArtifactStoreTest, SymlinkOutOfRootIsRefused) {
  fs::create_directories(base_ / "outside");
  std::ofstream(base_ / "outside" / "secret") << "s";
  fs::create_directories(base_ / "root" / "1");
  fs::create_directory_symlink(base_ / "outside", base_ / "root" / "1" / "link");
  EXPECT_EQ(store_->FileForRead("1/link/secret").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->PutBytes("1/link/new", "x").code(), Code::kInvalidArgument);
  EXPECT_FALSE(fs::exists(base_ / "outside" / "new"));
  EXPECT_EQ(store_->List("1/link").status().code(), Code::kInvalidArgument);
}

TEST_F(ArtifactStoreTest, StagingFolderIsNotAddressable) {
  EXPECT_FALSE(store_->Resolve(".staging/x").ok());
  auto root_listing = store_->List("");
  ASSERT_TRUE(root_listing.ok());
  for (const auto& e : *root_listing) EXPECT_NE(e.path, ".staging");
}

TEST(GuessMimeTypeTest, CommonExtensions) {
  EXPECT_EQ(GuessMimeType("a.txt"), "text/plain");
  EXPECT_EQ(GuessMimeType("MLmodel"), "application/octet-stream");
  EXPECT_EQ(GuessMimeType("x.JSON"), "application/json");
}

}  // namespace
}  // namespace cairn::artifacts
