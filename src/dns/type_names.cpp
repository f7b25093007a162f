#include "dns/type_names.h"

#include <array>
#include <utility>

namespace geodns::dns {

namespace {

// IANA "Resource Record (RR) TYPEs", the assigned ones a server may meet.
constexpr std::pair<uint16_t, const char*> kTypes[] = {
    {1, "A"},           {2, "NS"},      {3, "MD"},         {4, "MF"},       {5, "CNAME"},
    {6, "SOA"},         {7, "MB"},      {8, "MG"},         {9, "MR"},       {10, "NULL"},
    {11, "WKS"},        {12, "PTR"},    {13, "HINFO"},     {14, "MINFO"},   {15, "MX"},
    {16, "TXT"},        {17, "RP"},     {18, "AFSDB"},     {19, "X25"},     {20, "ISDN"},
    {21, "RT"},         {22, "NSAP"},   {23, "NSAP-PTR"},  {24, "SIG"},     {25, "KEY"},
    {26, "PX"},         {27, "GPOS"},   {28, "AAAA"},      {29, "LOC"},     {30, "NXT"},
    {31, "EID"},        {32, "NIMLOC"}, {33, "SRV"},       {34, "ATMA"},    {35, "NAPTR"},
    {36, "KX"},         {37, "CERT"},   {38, "A6"},        {39, "DNAME"},   {40, "SINK"},
    {41, "OPT"},        {42, "APL"},    {43, "DS"},        {44, "SSHFP"},   {45, "IPSECKEY"},
    {46, "RRSIG"},      {47, "NSEC"},   {48, "DNSKEY"},    {49, "DHCID"},   {50, "NSEC3"},
    {51, "NSEC3PARAM"}, {52, "TLSA"},   {53, "SMIMEA"},    {55, "HIP"},     {56, "NINFO"},
    {57, "RKEY"},       {58, "TALINK"}, {59, "CDS"},       {60, "CDNSKEY"}, {61, "OPENPGPKEY"},
    {62, "CSYNC"},      {63, "ZONEMD"}, {64, "SVCB"},      {65, "HTTPS"},   {99, "SPF"},
    {104, "NID"},       {105, "L32"},   {106, "L64"},      {107, "LP"},     {108, "EUI48"},
    {109, "EUI64"},     {249, "TKEY"},  {250, "TSIG"},     {251, "IXFR"},   {252, "AXFR"},
    {253, "MAILB"},     {254, "MAILA"}, {255, "ANY"},      {256, "URI"},    {257, "CAA"},
    {258, "AVC"},       {259, "DOA"},   {260, "AMTRELAY"}, {32768, "TA"},   {32769, "DLV"},
};

// IANA "DNS RCODEs" (0..23; 16 is BADVERS for OPT, BADSIG only in TSIG).
constexpr std::array<const char*, 24> kRcodes = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",  "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",  "DSOTYPENI", nullptr,   nullptr,   nullptr,    nullptr,
    "BADVERS", "BADKEY",  "BADTIME",  "BADMODE",   "BADNAME", "BADALG",  "BADTRUNC", "BADCOOKIE"};

}  // namespace

std::string type_name(uint16_t type) {
  for (const auto& [code, name] : kTypes) {
    if (code == type) return name;
  }
  return "TYPE" + std::to_string(type);
}

std::string rcode_name(uint16_t rcode) {
  if (rcode < kRcodes.size() && kRcodes[rcode] != nullptr) return kRcodes[rcode];
  return "RCODE" + std::to_string(rcode);
}

}  // namespace geodns::dns
