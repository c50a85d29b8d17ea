#include "hubfs/hubs/digits/digits_html_listing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace hubfs::hubs::digits {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// An Apache mod_autoindex page (FancyIndexing, HTMLTable), with a name truncated at NameWidth.
constexpr char kApacheTable[] = R"(<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html>
 <head>
  <title>Index of /storeB</title>
 </head>
 <body>
<h1>Index of /storeB</h1>
  <table>
   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th></tr>
   <tr><th colspan="4"><hr></th></tr>
<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="/">Parent Directory</a></td><td>&nbsp;</td><td align="right">  - </td></tr>
<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="alexnet/">alexnet/</a></td><td align="right">2024-01-02 10:00  </td><td align="right">  - </td></tr>
<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="a%20very%20long%20model%20folder%20name/">a very long model fol..&gt;</a></td><td align="right">2024-01-02 10:00  </td><td align="right">  - </td></tr>
<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="lenet/">lenet/</a></td><td align="right">2024-01-02 10:00  </td><td align="right">  - </td></tr>
<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="my%20model/">my model/</a></td><td align="right">2024-01-02 10:00  </td><td align="right">  - </td></tr>
<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="./a:b/">a:b/</a></td><td align="right">2024-01-02 10:00  </td><td align="right">  - </td></tr>
<tr><td valign="top"><img src="/icons/text.gif" alt="[TXT]"></td><td><a href="README.txt">README.txt</a></td><td align="right">2024-01-02 10:00  </td><td align="right">12 </td></tr>
   <tr><th colspan="4"><hr></th></tr>
</table>
<address>Apache/2.4.58 Server at 127.0.0.1 Port 8080</address>
</body></html>
)";

// python -m http.server.
constexpr char kPythonList[] = R"(<!DOCTYPE HTML>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Directory listing for /storeC/</title>
</head>
<body>
<h1>Directory listing for /storeC/</h1>
<hr>
<ul>
<li><a href="googlenet/">googlenet/</a></li>
<li><a href="info.txt">info.txt</a></li>
<li><a href="caf%C3%A9/">caf&#233;/</a></li>
<li><a href="r%26d/">r&amp;d/</a></li>
</ul>
<hr>
</body>
</html>
)";

// nginx autoindex: a parent link "../" and the date after each link.
constexpr char kNginx[] = R"(<html>
<head><title>Index of /storeA/</title></head>
<body>
<h1>Index of /storeA/</h1><hr><pre><a href="../">../</a>
<a href="detectnet/">detectnet/</a>                                         02-Jan-2024 10:00                   -
<a href="master.json">master.json</a>                                        02-Jan-2024 10:00                  95
</pre><hr></body>
</html>
)";

TEST(DigitsHtmlListingTest, ApacheTableGivesFolderLinks) {
  auto listing = ParseHtmlListing(kApacheTable);
  ASSERT_TRUE(listing.ok()) << listing.error().ToString();
  EXPECT_THAT(listing->folders, ElementsAre("alexnet", "lenet", "my model", "a:b"));
  // The truncated name is dropped and reported; "Parent Directory", sort links and files are not
  // folders and are not reported.
  ASSERT_THAT(listing->skipped, SizeIs(1));
  EXPECT_THAT(listing->skipped[0], HasSubstr("'a very long model fol..>': name truncated"));
}

TEST(DigitsHtmlListingTest, PythonHttpServerListGivesFolderLinks) {
  auto listing = ParseHtmlListing(kPythonList);
  ASSERT_TRUE(listing.ok());
  EXPECT_THAT(listing->folders, ElementsAre("googlenet", "caf\xc3\xa9", "r&d"));
  EXPECT_THAT(listing->skipped, IsEmpty());
}

TEST(DigitsHtmlListingTest, NginxParentLinkIsDroppedSilently) {
  auto listing = ParseHtmlListing(kNginx);
  ASSERT_TRUE(listing.ok());
  EXPECT_THAT(listing->folders, ElementsAre("detectnet"));
  EXPECT_THAT(listing->skipped, IsEmpty());
}

TEST(DigitsHtmlListingTest, LinksThatPointElsewhereAreDropped) {
  auto listing = ParseHtmlListing(R"html(<ul>
    <li><a href="http://evil.test/lenet/">lenet/</a></li>
    <li><a href="//evil.test/alexnet/">alexnet/</a></li>
    <li><a href="/abs/googlenet/">googlenet/</a></li>
    <li><a href="detectnet/?x=1">detectnet/</a></li>
    <li><a href="other/">resnet/</a></li>
    <li><a href="javascript:alert(1)">js/</a></li>
    <li><a>nohref/</a></li>
    <li><a href="%2e%2e/">../</a></li>
    <li><a href="./">./</a></li>
    <li><a href="ok/">ok/</a></li>
  </ul>)html");
  ASSERT_TRUE(listing.ok());
  EXPECT_THAT(listing->folders, ElementsAre("ok"));
  ASSERT_THAT(listing->skipped, SizeIs(7));
  EXPECT_THAT(listing->skipped[0], HasSubstr("absolute URL"));
  EXPECT_THAT(listing->skipped[1], HasSubstr("absolute URL"));
  EXPECT_THAT(listing->skipped[2], HasSubstr("absolute path"));
  EXPECT_THAT(listing->skipped[3], HasSubstr("query or fragment"));
  EXPECT_THAT(listing->skipped[4], HasSubstr("points elsewhere"));
  EXPECT_THAT(listing->skipped[5], HasSubstr("absolute URL"));
  EXPECT_THAT(listing->skipped[6], HasSubstr("no href"));
}

TEST(DigitsHtmlListingTest, UnsafeAndVeryLongNamesAreDropped) {
  const std::string long_name(300, 'x');
  const std::string max_name(255, 'y');
  const std::string html = "<table><tr><td><a href=\"a%2Fb/\">a/b/</a></td></tr>"
                           "<tr><td><a href=\"nul%00/\">nul&#0;/</a></td></tr>"
                           "<tr><td><a href=\"" + long_name + "/\">" + long_name + "/</a></td></tr>"
                           "<tr><td><a href=\"" + max_name + "/\">" + max_name + "/</a></td></tr>"
                           "<tr><td><a href=\"tab%09/\">tab&#9;/</a></td></tr></table>";
  auto listing = ParseHtmlListing(html);
  ASSERT_TRUE(listing.ok());
  EXPECT_THAT(listing->folders, ElementsAre(max_name));
  EXPECT_GE(listing->skipped.size(), 3u);
  for (const std::string& line : listing->skipped) {
    EXPECT_EQ(line.find('\t'), std::string::npos);  // control characters never reach the log
  }
}

TEST(DigitsHtmlListingTest, BareTableCellsAreNotFolders) {
  // DIGITS' StoreParser would take "lenet/" from the cell; hubfs wants a link to the folder.
  auto listing = ParseHtmlListing("<table><tr><td>lenet/</td></tr></table>");
  ASSERT_TRUE(listing.ok());
  EXPECT_THAT(listing->folders, IsEmpty());
}

TEST(DigitsHtmlListingTest, BrokenMarkupIsRepairedNotFatal) {
  auto listing = ParseHtmlListing("<td><a href='lenet/'>lenet/<td><a href=alexnet/>alexnet/");
  ASSERT_TRUE(listing.ok());
  EXPECT_THAT(listing->folders, ElementsAre("lenet", "alexnet"));
  // Whitespace around the link text (pretty-printed pages) does not matter.
  auto spaced = ParseHtmlListing("<a href=\"lenet/\">\n  lenet/\n</a>");
  ASSERT_TRUE(spaced.ok());
  EXPECT_THAT(spaced->folders, ElementsAre("lenet"));
}

TEST(DigitsHtmlListingTest, DeepNestingDoesNotExhaustTheStack) {
  std::string html;
  for (int i = 0; i < 100000; ++i) html += "<div>";
  html += "<a href=\"deep/\">deep/</a>";
  auto listing = ParseHtmlListing(html);
  ASSERT_TRUE(listing.ok());
}

TEST(DigitsHtmlListingTest, NonHtmlIsEmptyOrAnError) {
  EXPECT_FALSE(ParseHtmlListing("").ok());
  auto text = ParseHtmlListing("{\"children\": [\"lenet/\"]}");
  if (text.ok()) {
    EXPECT_THAT(text->folders, IsEmpty());
  }
}

}  // namespace
}  // namespace hubfs::hubs::digits
